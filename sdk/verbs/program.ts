// The project's program as an Automation API inline program: it runs in this process, so
// no Pulumi language host binary is needed, and a verb can set `kaptain:phases` for its run.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { CONFIG_NAMESPACE } from "../config";
import { PhaseSetting } from "../infrastructure-args";
import { PhaseName } from "../phases";
import { Project } from "../synth/project";
import { preloadProviders, registerTypeScript } from "../synth/synth";
import { VerbError } from "./plan";

/**
 * Loads the project's `main` the way the Pulumi CLI runs a program (in the project's
 * directory; a default export that is a function is called; the exports become the stack's
 * outputs), with `kaptain:phases` replaced for this run when `phases` is given. The engine
 * runs the program once per operation: the project's modules are loaded afresh each time.
 */
export function projectProgram(project: Project, phases?: Record<PhaseName, PhaseSetting>): PulumiFn {
    return async () => {
        if (phases !== undefined) {
            pulumi.runtime.setConfig(`${CONFIG_NAMESPACE}:phases`, JSON.stringify(phases));
        }
        forgetModulesUnder(project.directory);
        preloadProviders();
        registerTypeScript(project.main);
        const loaded = require(project.main) as Record<string, unknown>;
        const result =
            typeof loaded.default === "function" ? await (loaded.default as () => unknown)() : withoutDefault(loaded);
        return (result ?? {}) as Record<string, unknown>;
    };
}

/**
 * The program must use the `@pulumi/pulumi` this process drives the engine with: a second
 * copy would run the program outside the engine. Names both when they differ.
 */
export function checkOneSdk(project: Project): void {
    const ours = fs.realpathSync(require.resolve("@pulumi/pulumi"));
    let theirs: string;
    try {
        theirs = fs.realpathSync(require.resolve("@pulumi/pulumi", { paths: [path.dirname(project.main)] }));
    } catch {
        throw new VerbError(`${project.main} cannot load @pulumi/pulumi: run npm install in ${project.directory}`);
    }
    if (ours !== theirs) {
        throw new VerbError(
            `two copies of @pulumi/pulumi: the program loads ${path.dirname(theirs)}, kaptain runs with ` +
                `${path.dirname(ours)}. Run the project's own kaptain (npx kaptain in ${project.directory}), ` +
                "or install pulumi-kaptain into the project",
        );
    }
}

function withoutDefault(exports: Record<string, unknown>): Record<string, unknown> {
    const { default: _default, __esModule: _esModule, ...outputs } = exports;
    return outputs;
}

/** Drops the project's own modules (not its node_modules) from require's cache. */
function forgetModulesUnder(directory: string): void {
    const root = `${fs.realpathSync(directory)}${path.sep}`;
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(root) && !key.slice(root.length).split(path.sep).includes("node_modules")) {
            delete require.cache[key];
        }
    }
}
