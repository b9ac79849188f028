// `kaptain init [DIR] [--namespace NAME] [--provision-configs keep|take-over] [--package SPEC]`
import { parseCommandLine } from "../command-line";
import { init, initReport } from "./init";
import { InitError, PROVISION_CONFIGS_CHOICES, ProvisionConfigsChoice } from "./repository";

export const INIT_USAGE = `usage: kaptain init [DIR] [--namespace NAME] [--provision-configs keep|take-over] [--package SPEC]

Turns the kaptain repository in DIR (default: the current directory) into a Pulumi
project, in place: Pulumi.yaml, index.ts, package.json, tsconfig.json, .gitignore and a
Pulumi.<namespace>.yaml per namespaces/<namespace>/ (or one for the root when there is no
namespaces/ folder). It never overwrites a file.
  --namespace NAME          also a stack for namespace NAME deployed from the repository's root
  --provision-configs MODE  where the provision-configs chart renders the namespace Secret,
                            ConfigMap and rclone-config Secret: keep them there (keep, the
                            default) or take them over as native objects (take-over)
  --package SPEC            what package.json asks for pulumi-kaptain (a version, file:TARBALL,
                            a git URL); default: this version`;

/** Runs `kaptain init` with its arguments (after the word `init`); returns the exit status. */
export function initCommand(argv: string[]): number {
    const parsed = parseCommandLine(
        "kaptain init",
        argv,
        {
            namespace: { type: "string" },
            "provision-configs": { type: "string" },
            package: { type: "string" },
            help: { type: "boolean", short: "h" },
        },
        INIT_USAGE,
    );
    if (typeof parsed === "number") {
        return parsed;
    }
    const choice = parsed.values["provision-configs"];
    if (choice !== undefined && !(PROVISION_CONFIGS_CHOICES as readonly string[]).includes(choice)) {
        process.stderr.write(
            `kaptain init: --provision-configs must be ${PROVISION_CONFIGS_CHOICES.join(" or ")}, got '${choice}'\n`,
        );
        return 2;
    }
    if (parsed.positionals.length > 1) {
        process.stderr.write(`kaptain init: one folder at most, got ${parsed.positionals.length}\n${INIT_USAGE}\n`);
        return 2;
    }
    try {
        const result = init({
            directory: parsed.positionals[0] ?? ".",
            rootNamespace: parsed.values.namespace,
            provisionConfigs: choice as ProvisionConfigsChoice | undefined,
            packageSpec: parsed.values.package,
        });
        process.stdout.write(`${initReport(result)}\n`);
        return 0;
    } catch (err) {
        if (err instanceof InitError) {
            process.stderr.write(`kaptain init: ${err.message}\n`);
            return 1;
        }
        throw err;
    }
}
