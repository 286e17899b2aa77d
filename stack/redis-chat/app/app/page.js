export default function Home() {
  return (
    <main>
      <h1>Chat system</h1>
      <p>The chat widget talks to /api/chat.</p>
    </main>
  );
}
