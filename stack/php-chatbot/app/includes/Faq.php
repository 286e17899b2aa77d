<?php
declare(strict_types=1);

/** The help-centre answers (data/faq.json), searched for entries that match a message. */
final class Faq
{
    /** @return list<string> up to $limit answers whose keywords appear in the message */
    public static function context(string $message, int $limit = 2): array
    {
        $entries = json_decode((string) file_get_contents(__DIR__ . '/../data/faq.json'), true) ?: [];
        $words = array_flip(preg_split('/\W+/', strtolower($message)) ?: []);
        $found = [];
        foreach ($entries as $entry) {
            foreach ($entry['keywords'] as $keyword) {
                if (isset($words[$keyword])) {
                    $found[] = $entry['answer'];
                    break;
                }
            }
            if (count($found) >= $limit) {
                break;
            }
        }
        return $found;
    }
}
