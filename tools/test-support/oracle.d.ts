/** True when the CI environment variable says so (CI=true, 1 or yes): a missing oracle then fails. */
export declare const underCi: boolean;

/** The first executable called exactly `name` on PATH, or null. */
export declare function which(name: string): string | null;

/**
 * An LLVM-style tool: `base` itself (e.g. llvm-objdump) if it is on PATH, else the highest
 * versioned one (llvm-objdump-NN), or null.
 */
export declare function findTool(base: string): string | null;

/** The first line of `path --version` that holds a version number. */
export declare function toolVersion(path: string): string;

/** Null when every [tool, Debian package] is on PATH, else a sentence naming the missing ones. */
export declare function missingTools(tools: readonly (readonly [tool: string, debianPackage: string])[]): string | null;

/**
 * Declares what an oracle needs: returns true when `problem` is null. Otherwise registers one test
 * in the current suite named after `what` that fails under CI and is skipped elsewhere (its note
 * and a console line say what is missing), and returns false: register the oracle's own tests
 * only when this returns true.
 */
export declare function requires(what: string, problem: string | null): boolean;

/**
 * Runs a host harness (a script whose output is an oracle) and returns its result. If it throws,
 * registers one failing test in the current suite that carries the error and its stderr, and
 * returns null: a harness error is never a skip. Check its prerequisites with `requires` first.
 */
export declare function runHarness<T>(what: string, run: () => T): T | null;
