export interface PgQueryOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
  sql: string;
  timeoutMs?: number;
}
/** Rows of every result of `sql`, as text (null for NULL). */
export function pgQuery(options: PgQueryOptions): Promise<(string | null)[][]>;
