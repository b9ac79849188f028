// The argument parsing every `kaptain` subcommand shares.
import { parseArgs, ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>;

/**
 * Parses a subcommand's arguments (its `options` include `help`): the parsed arguments,
 * or the exit status when there is nothing left to do: 2 after an unknown option (said on
 * stderr with the usage), 0 after printing the usage for `--help`.
 */
export function parseCommandLine<O extends Options>(
    command: string,
    argv: string[],
    options: O,
    usage: string,
): Parsed<O> | number {
    let parsed: Parsed<O>;
    try {
        parsed = parseArgs({ args: argv, allowPositionals: true, options });
    } catch (err) {
        process.stderr.write(`${command}: ${(err as Error).message}\n${usage}\n`);
        return 2;
    }
    if ((parsed.values as Record<string, unknown>).help === true) {
        process.stdout.write(`${usage}\n`);
        return 0;
    }
    return parsed;
}
