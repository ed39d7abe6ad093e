// A container's name as people type it: the daemon answers it with a leading slash.

/** From a list entry (`Names`) or an inspect (`Name`); the id when the daemon gave no name. */
export function containerName(container: { Id: string; Names?: string[]; Name?: string }): string {
  return (container.Names?.[0] ?? container.Name ?? container.Id).replace(/^\//, "");
}
