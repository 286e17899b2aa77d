<?php
declare(strict_types=1);

/** PostgreSQL through PDO, from a postgresql://user:password@host:port/database URL. */
final class DB
{
    private const CONNECT_TIMEOUT_SECONDS = 3;

    public PDO $pdo;

    /** @param array<string, mixed> $config */
    public function __construct(array $config)
    {
        $url = parse_url((string) $config['database_url']);
        if ($url === false || !in_array($url['scheme'] ?? '', ['postgres', 'postgresql'], true)) {
            throw new RuntimeException('ADMIN_DATABASE_URL is not a postgresql:// URL');
        }
        $dsn = sprintf('pgsql:host=%s;port=%d;dbname=%s;connect_timeout=%d;application_name=chatbot',
            $url['host'] ?? 'localhost', $url['port'] ?? 5432, ltrim($url['path'] ?? '', '/'),
            self::CONNECT_TIMEOUT_SECONDS);
        $this->pdo = new PDO($dsn, rawurldecode($url['user'] ?? ''), rawurldecode($url['pass'] ?? ''), [
            PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
            PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
        ]);
    }

    /** @param array<int|string, mixed> $params @return list<array<string, mixed>> */
    public function query(string $sql, array $params = []): array
    {
        $statement = $this->pdo->prepare($sql);
        $statement->execute($params);
        return $statement->fetchAll();
    }

    /** @param array<int|string, mixed> $params @return array<string, mixed>|null */
    public function one(string $sql, array $params = []): ?array
    {
        return $this->query($sql, $params)[0] ?? null;
    }

    /** @param array<int|string, mixed> $params */
    public function execute(string $sql, array $params = []): int
    {
        $statement = $this->pdo->prepare($sql);
        $statement->execute($params);
        return $statement->rowCount();
    }
}
