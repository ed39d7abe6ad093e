export type RedisReply = string | number | null | RedisReply[];
export interface RedisCommandsOptions {
  host: string;
  port: number;
  commands: (string | number)[][];
  timeoutMs?: number;
}
/** One reply per command, in order; an error reply rejects. */
export function redisCommands(options: RedisCommandsOptions): Promise<RedisReply[]>;
