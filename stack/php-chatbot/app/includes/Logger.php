<?php
declare(strict_types=1);

/**
 * JSON lines: {"ts", "level", "event", "component", "context"}. A line that cannot be written
 * whole (the log disk is full) makes log() return false: callers that must not lose their
 * record (every request of the web side) fail rather than carry on unrecorded.
 */
final class Logger
{
    public function __construct(private string $path, private string $component)
    {
    }

    public function withComponent(string $component): self
    {
        return new self($this->path, $component);
    }

    /** @param array<string, mixed> $context */
    public function log(string $level, string $event, array $context = []): bool
    {
        $line = json_encode([
            'ts' => gmdate('Y-m-d\TH:i:s') . sprintf('.%03dZ', (int) (fmod(microtime(true), 1) * 1000)),
            'level' => $level,
            'event' => $event,
            'component' => $this->component,
            'context' => (object) $context,
        ], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n";
        $written = @file_put_contents($this->path, $line, FILE_APPEND | LOCK_EX);
        return $written === strlen($line);
    }

    /** @param array<string, mixed> $context */
    public function info(string $event, array $context = []): bool
    {
        return $this->log('info', $event, $context);
    }

    /** @param array<string, mixed> $context */
    public function warning(string $event, array $context = []): bool
    {
        return $this->log('warning', $event, $context);
    }

    /** @param array<string, mixed> $context */
    public function error(string $event, array $context = []): bool
    {
        return $this->log('error', $event, $context);
    }
}
