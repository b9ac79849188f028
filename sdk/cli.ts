#!/usr/bin/env node
// The `kaptain` command: `kaptain init`, kaptain's verbs over Pulumi, and `kaptain synth`.
import * as path from "node:path";
import { parseArgs } from "node:util";
import { initCommand, INIT_USAGE } from "./init/command";
import { isVerb } from "./verbs/plan";
import { verbCommand, VERBS_USAGE } from "./verbs/command";
import { SynthError } from "./synth/project";
import { report } from "./synth/report";
import { synth } from "./synth/synth";

const USAGE = `usage: kaptain synth [--stack NAME] [--project DIR] [--out DIR] [--live --kubeconfig FILE]

Runs the Pulumi program of the project in DIR (default: the current directory) offline,
with the stack's config from Pulumi.<stack>.yaml, and writes out/<stack>/: plan.json,
manifests/ and the phase scripts. Nothing is deployed; no Pulumi CLI is needed.
With --live, each phase's diff action (kaptain diff: hooks in dry run, helmfile diff)
also runs against the cluster of --kubeconfig and the releases that would change are
listed; it changes nothing there and uploads nothing.`;

const FULL_USAGE = `${VERBS_USAGE}\n\n${INIT_USAGE}\n\n${USAGE}`;

async function main(argv: string[]): Promise<number> {
    if (argv[0] === "init") {
        return initCommand(argv.slice(1));
    }
    if (isVerb(argv[0])) {
        return verbCommand(argv[0], argv.slice(1));
    }
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            allowPositionals: true,
            options: {
                stack: { type: "string", short: "s" },
                project: { type: "string", short: "C" },
                out: { type: "string" },
                live: { type: "boolean" },
                kubeconfig: { type: "string" },
                help: { type: "boolean", short: "h" },
            },
        });
    } catch (err) {
        process.stderr.write(`kaptain: ${(err as Error).message}\n${USAGE}\n`);
        return 2;
    }
    const [command, ...rest] = parsed.positionals;
    if (parsed.values.help || command === undefined) {
        process.stdout.write(`${FULL_USAGE}\n`);
        return command === undefined && !parsed.values.help ? 2 : 0;
    }
    if (command !== "synth" || rest.length > 0) {
        process.stderr.write(`kaptain: unknown command '${[command, ...rest].join(" ")}'\n${FULL_USAGE}\n`);
        return 2;
    }
    if (parsed.values.live === true && parsed.values.kubeconfig === undefined) {
        process.stderr.write(`kaptain: --live needs --kubeconfig FILE: the cluster to compare with\n${USAGE}\n`);
        return 2;
    }
    try {
        const projectDirectory = path.resolve(parsed.values.project ?? ".");
        const result = await synth({
            projectDirectory,
            stack: parsed.values.stack,
            outDirectory: parsed.values.out,
            ...(parsed.values.live === true ? { liveKubeconfig: parsed.values.kubeconfig } : {}),
        });
        process.stdout.write(`${report(result, { projectDirectory })}\n`);
        return 0;
    } catch (err) {
        const message =
            err instanceof SynthError || isPulumiInputError(err)
                ? (err as Error).message
                : String((err as Error).stack ?? err);
        process.stderr.write(`kaptain synth: ${message}\n`);
        return 1;
    }
}

function isPulumiInputError(err: unknown): boolean {
    return (
        typeof err === "object" &&
        err !== null &&
        ("__pulumiInputPropertyError" in err || "__pulumiInputPropertiesError" in err)
    );
}

main(process.argv.slice(2)).then(
    code => {
        // Pulumi's runtime may keep handles open: leave once the work is done.
        process.exit(code);
    },
    err => {
        process.stderr.write(`kaptain: ${String(err)}\n`);
        process.exit(1);
    },
);
