<?php
declare(strict_types=1);

final class OpenAIError extends RuntimeException
{
    public function __construct(string $message, public readonly int $status = 0,
                                public readonly ?int $retryAfter = null)
    {
        parent::__construct($message);
    }
}

/** The call was given up because the worker is stopping (not the API's fault). */
final class OpenAIAborted extends RuntimeException
{
}

/**
 * Chat completions over HTTP with curl; every call logged (`openai_request`, `openai_error`).
 * `$abort`, when it returns true, gives up a call in flight (a worker told to stop).
 */
final class OpenAIClient
{
    private const CONNECT_TIMEOUT_SECONDS = 3;

    /** @var callable(): bool */
    private $abort;

    /** @param array<string, mixed> $config */
    public function __construct(private array $config, private Logger $log, ?callable $abort = null)
    {
        $this->abort = $abort ?? fn (): bool => false;
    }

    /** @param list<array{role: string, content: string}> $messages */
    public function chat(array $messages): string
    {
        $started = microtime(true);
        $body = json_encode(['model' => $this->config['openai_model'], 'messages' => $messages,
                             'max_tokens' => 256]);
        $headers = [];
        $curl = curl_init($this->config['openai_base_url'] . '/chat/completions');
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_HTTPHEADER => ['Content-Type: application/json',
                                   'Authorization: Bearer ' . $this->config['openai_api_key']],
            CURLOPT_CONNECTTIMEOUT => self::CONNECT_TIMEOUT_SECONDS,
            CURLOPT_TIMEOUT_MS => (int) ($this->config['openai_timeout'] * 1000),
            CURLOPT_NOPROGRESS => false,
            CURLOPT_XFERINFOFUNCTION => fn (): int => ($this->abort)() ? 1 : 0,
            CURLOPT_HEADERFUNCTION => function ($curl, string $line) use (&$headers): int {
                if (str_contains($line, ':')) {
                    [$name, $value] = explode(':', $line, 2);
                    $headers[strtolower(trim($name))] = trim($value);
                }
                return strlen($line);
            },
        ]);
        $response = curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        $ms = (int) round((microtime(true) - $started) * 1000);
        $this->log->info('openai_request', ['model' => $this->config['openai_model'], 'status' => $status,
                                            'duration_ms' => $ms]);
        if ($response === false && curl_errno($curl) === CURLE_ABORTED_BY_CALLBACK) {
            curl_close($curl);
            throw new OpenAIAborted('given up: the worker is stopping');
        }
        if ($response === false) {
            $error = curl_errno($curl) === CURLE_OPERATION_TIMEDOUT
                ? sprintf('timeout after %d ms', $ms) : 'connection failed: ' . curl_error($curl);
            curl_close($curl);
            $this->log->error('openai_error', ['error' => $error, 'status' => 0, 'duration_ms' => $ms]);
            throw new OpenAIError($error);
        }
        curl_close($curl);
        if ($status !== 200) {
            $decoded = json_decode((string) $response, true);
            $message = $decoded['error']['message'] ?? substr((string) $response, 0, 200);
            $retry = isset($headers['retry-after']) && ctype_digit($headers['retry-after'])
                ? (int) $headers['retry-after'] : null;
            $error = sprintf('HTTP %d: %s', $status, $message);
            $this->log->error('openai_error', ['error' => $error, 'status' => $status, 'retry_after' => $retry,
                                               'duration_ms' => $ms]);
            throw new OpenAIError($error, $status, $retry);
        }
        $decoded = json_decode((string) $response, true);
        $text = $decoded['choices'][0]['message']['content'] ?? null;
        if (!is_string($text)) {
            $this->log->error('openai_error', ['error' => 'no message in the answer', 'status' => $status]);
            throw new OpenAIError('no message in the answer', $status);
        }
        return $text;
    }
}
