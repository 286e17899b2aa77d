<?php
// Writes data/faq.json: the help-centre answers the chat endpoint searches to give the model some
// context (made at image build time; about 2 MB, as the team's export is).
declare(strict_types=1);

const ENTRIES = 8000;
$topics = ['billing', 'login', 'password', 'export', 'invoice', 'account', 'privacy', 'upload', 'limits', 'api'];
$entries = [];
for ($i = 0; $i < ENTRIES; $i++) {
    $topic = $topics[$i % count($topics)];
    $entries[] = [
        'id' => $i,
        'topic' => $topic,
        'keywords' => [$topic, "kw$i", 'help'],
        'question' => "How do I handle $topic case number $i?",
        'answer' => str_repeat("Open settings, choose $topic, follow step $i. ", 4),
    ];
}
file_put_contents(__DIR__ . '/../data/faq.json', json_encode($entries));
