<?php
declare(strict_types=1);

/** KEY=value lines (comments, blank lines and `export ` allowed; one pair of quotes stripped). */
final class Env
{
    /** @return array<string, string> */
    public static function read(string $path): array
    {
        $values = [];
        $lines = @file($path, FILE_IGNORE_NEW_LINES);
        if ($lines === false) {
            return $values;
        }
        foreach ($lines as $line) {
            if (!preg_match('/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/', $line, $m)) {
                continue;
            }
            $value = trim($m[2]);
            if (strlen($value) >= 2 && ($value[0] === '"' || $value[0] === "'") && $value[-1] === $value[0]) {
                $value = substr($value, 1, -1);
            }
            $values[$m[1]] = $value;
        }
        return $values;
    }
}
