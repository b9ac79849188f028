// `kaptain config|install|uninstall|provision|unprovision|diff|up|destroy <stack> [--project DIR] [--yes]`
import { parseCommandLine } from "../command-line";
import { isVerb, VERB_DEFINITIONS, VERBS, VerbError } from "./plan";
import { runVerb } from "./run";

export const VERBS_USAGE = `usage: kaptain ${VERBS.join("|")} STACK [--project DIR] [--yes]

kaptain's verbs on a stack of the Pulumi project in DIR (default: the current directory),
through the Pulumi CLI (on PATH) and its Automation API; the program runs in this process.
${VERBS.map(v => `  ${v.padEnd(12)}${VERB_DEFINITIONS[v].summary}`).join("\n")}
A verb that would remove something (a phase's delete runs helmfile destroy) lists it and
asks first; --yes removes without asking. Without a terminal to ask on, it refuses.
Exit status: 0 done, 1 failed or declined, 2 invalid arguments or configuration; a
failure of the Pulumi CLI exits with the CLI's status.`;

/** Runs a verb with its arguments (after the verb); returns the exit status. */
export async function verbCommand(verb: string, argv: string[]): Promise<number> {
    if (!isVerb(verb)) {
        throw new Error(`not a verb: ${verb}`);
    }
    const parsed = parseCommandLine(
        `kaptain ${verb}`,
        argv,
        {
            project: { type: "string", short: "C" },
            yes: { type: "boolean", short: "y" },
            help: { type: "boolean", short: "h" },
        },
        VERBS_USAGE,
    );
    if (typeof parsed === "number") {
        return parsed;
    }
    if (parsed.positionals.length !== 1) {
        process.stderr.write(
            `kaptain ${verb}: name one stack (the namespace), as in \`kaptain ${verb} dev\`\n${VERBS_USAGE}\n`,
        );
        return 2;
    }
    // Ctrl-C reaches the Pulumi CLI too, which cancels cleanly; this process must stay, as
    // the program runs in it.
    const onInterrupt = () => process.stderr.write(`kaptain ${verb}: interrupted: waiting for pulumi to stop\n`);
    process.on("SIGINT", onInterrupt);
    try {
        return await runVerb({
            verb,
            stack: parsed.positionals[0],
            projectDirectory: parsed.values.project ?? ".",
            yes: parsed.values.yes === true,
        });
    } catch (err) {
        if (err instanceof VerbError) {
            process.stderr.write(`${err.message.startsWith("kaptain ") ? "" : `kaptain ${verb}: `}${err.message}\n`);
            return err.exitCode;
        }
        throw err;
    } finally {
        process.off("SIGINT", onInterrupt);
    }
}
