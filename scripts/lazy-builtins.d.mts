export declare const LAZY_BUILTINS: string[];
export declare const LAZY_BUILTIN_LOADER: string;
export declare const MONOTONIC_NOW: string;
export declare const MONOTONIC_NOW_DEFINE: Record<string, string>;
export declare function lazyBuiltins(code: string): string;
