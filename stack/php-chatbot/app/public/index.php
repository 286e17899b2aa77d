<?php
declare(strict_types=1);
header('Content-Type: text/html; charset=utf-8');
?><!doctype html>
<title>Chatbot</title>
<p>Chatbot: POST JSON {"session", "message"} to /chat.php, then GET /chat.php?job=ID for the answer.</p>
