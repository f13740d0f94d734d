// true: exit with status 0, doing nothing (the smallest program exec can load; lmbench's exec test).
// User program (the TypeScript subset, compiled with --user).

export function main(): number {
  return 0;
}
