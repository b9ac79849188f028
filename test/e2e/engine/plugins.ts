/**
 * The provider plugins of the engine scenarios, taken from where they can be had:
 *
 * - kubernetes 4.25.0: built by test/e2e/toolchain/build.sh from its Go module (the
 *   proxy serves the v4.25.0 tag's commit), always there once the toolchain is built;
 * - command 1.2.1: the Go module proxy does not serve it and nothing stands in for it.
 *   The suite takes it from `$KAPTAIN_E2E_PLUGIN_DIR` (a folder holding
 *   `pulumi-resource-command`, or Pulumi's plugin layout `resource-command-v1.2.1/…`),
 *   else from the user's own Pulumi plugin cache (`$PULUMI_HOME/plugins`, else
 *   `~/.pulumi/plugins`), where `pulumi plugin install resource command 1.2.1` puts it.
 *   Without it, the scenarios that need it are skipped with one loud line each.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isExecutable } from "../../../sdk/verbs/run";

/** The plugin versions the SDKs this project pins ask the engine for. */
export const PLUGINS = {
    kubernetes: readSdkPluginVersion("@pulumi/kubernetes"),
    command: readSdkPluginVersion("@pulumi/command"),
} as const;

export type PluginName = keyof typeof PLUGINS;

/** What an engine scenario needs and where it was found (undefined: not found). */
export interface PluginBinaries {
    readonly kubernetes: string;
    readonly command?: string;
}

/** The environment variable that names a folder of plugin binaries. */
export const PLUGIN_DIR_VARIABLE = "KAPTAIN_E2E_PLUGIN_DIR";

function readSdkPluginVersion(sdk: string): string {
    const pkg = JSON.parse(fs.readFileSync(require.resolve(`${sdk}/package.json`), "utf8")) as {
        version: string;
        pulumi?: { version?: string };
    };
    return pkg.pulumi?.version ?? pkg.version;
}

/** The binary of `resource-NAME` VERSION in one of the places a user keeps plugins. */
export function findPluginBinary(
    name: PluginName,
    env: NodeJS.ProcessEnv = process.env,
    home = os.homedir(),
): string | undefined {
    const binary = `pulumi-resource-${name}`;
    const layout = path.join(`resource-${name}-v${PLUGINS[name]}`, binary);
    const candidates = [
        ...(env[PLUGIN_DIR_VARIABLE]
            ? [path.join(env[PLUGIN_DIR_VARIABLE], binary), path.join(env[PLUGIN_DIR_VARIABLE], layout)]
            : []),
        path.join(env.PULUMI_HOME ?? path.join(home, ".pulumi"), "plugins", layout),
    ];
    return candidates.find(isExecutable);
}

/** The kubernetes plugin from the toolchain, the command plugin from wherever the user has it. */
export function pluginBinaries(toolchainBin: string): PluginBinaries {
    const kubernetes = path.join(toolchainBin, "pulumi-resource-kubernetes");
    if (!isExecutable(kubernetes)) {
        throw new Error(`${kubernetes} is missing: run test/e2e/toolchain/build.sh`);
    }
    return { kubernetes, command: findPluginBinary("command") };
}

/** One loud line for a scenario that cannot run because the command plugin is missing. */
/**
 * Whether the command plugin is here; when it is not, one loud line for each scenario it
 * makes the suite skip.
 */
export function commandPluginOrSkipLines(scenarios: readonly string[]): boolean {
    if (findPluginBinary("command") !== undefined) {
        return true;
    }
    for (const scenario of scenarios) {
        console.warn(missingCommandPluginLine(scenario));
    }
    return false;
}

export function missingCommandPluginLine(scenario: string): string {
    return (
        `!!! SKIPPED engine scenario "${scenario}": the command provider plugin ${PLUGINS.command} is missing ` +
        `(the Go module proxy does not serve it). Provide it with ` +
        `\`pulumi plugin install resource command ${PLUGINS.command} --file <binary>\` ` +
        `or ${PLUGIN_DIR_VARIABLE}=<folder holding pulumi-resource-command>.`
    );
}
