import * as pulumi from "@pulumi/pulumi";

/** One failed check on an argument: the property path and why it failed. */
export interface ArgProblem {
    readonly propertyPath: string;
    readonly reason: string;
}

/** Builds the problem for `path`; the reason names the argument in backticks. */
export function problem(propertyPath: string, reason: string): ArgProblem {
    return { propertyPath, reason: `\`${propertyPath}\` ${reason}` };
}

/**
 * Throws the problems found while checking a component's plain arguments, before any
 * resource is registered: one `InputPropertyError`, or an `InputPropertiesError` that
 * lists them all so a user fixes everything in one go.
 */
export function throwIfProblems(component: string, problems: readonly ArgProblem[]): void {
    if (problems.length === 0) {
        return;
    }
    if (problems.length === 1) {
        throw new pulumi.InputPropertyError(problems[0]);
    }
    throw new pulumi.InputPropertiesError({
        message:
            `${component}: ${problems.length} invalid arguments:\n` + problems.map(p => `  - ${p.reason}`).join("\n"),
        errors: [...problems],
    });
}
