export interface ClickhouseQueryOptions {
  host: string;
  port?: number;
  query: string;
  timeoutMs?: number;
}
/** The response body of `query` (TabSeparated unless the query says otherwise). */
export function clickhouseQuery(options: ClickhouseQueryOptions): Promise<string>;
