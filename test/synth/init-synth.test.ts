// `kaptain init` as a user runs it (the CLI), and every stack it writes passes
// `kaptain synth` unedited: on the example repository and on each fixture shape.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { Plan } from "../../sdk/synth/synth";
import { writeTree, tempDir } from "../support/fixture";
import { INIT_SOURCES, linkSdk, listFilesUnder, repositoryCopy } from "../support/init-project";
import { kaptain } from "../support/synth-project";

const SHAPES: Array<{ source: string; args: string[] }> = [
    { source: INIT_SOURCES.example, args: [] },
    { source: INIT_SOURCES["root-only"], args: [] },
    { source: INIT_SOURCES.namespaces, args: ["--namespace", "qa"] },
    { source: INIT_SOURCES.chart, args: [] },
    { source: INIT_SOURCES.chart, args: ["--provision-configs", "take-over"] },
];

function stacksOf(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map(f => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

describe("every stack kaptain init writes passes kaptain synth unedited", () => {
    for (const { source, args } of SHAPES) {
        it(`${path.relative(path.resolve(source, "../.."), source)} ${args.join(" ")}`.trim(), () => {
            const dir = repositoryCopy(source);
            const run = kaptain(["init", dir, ...args]);
            expect(run.stderr).toBe("");
            expect(run.status).toBe(0);
            expect(run.stdout).toContain(`kaptain init: ${dir} is now a Pulumi project.`);
            linkSdk(dir);
            const stacks = stacksOf(dir);
            expect(stacks.length).toBeGreaterThan(0);
            for (const stack of stacks) {
                const synth = kaptain(["synth", "--project", dir, "--stack", stack]);
                expect(synth.stderr, stack).toBe("");
                expect(synth.status, stack).toBe(0);
                const plan = JSON.parse(fs.readFileSync(path.join(dir, "out", stack, "plan.json"), "utf8")) as Plan;
                const commands = plan.resources.filter(r => r.type === "command:local:Command").map(r => r.name);
                // The namespace guard first, then the phases.
                expect(commands, stack).toEqual(["platform-namespace-guard", "platform-config", "platform-install"]);
                // The program's own files are not inputs: editing index.ts re-runs no phase.
                const inputs = Object.keys(
                    (plan.resources.find(r => r.name === "platform-install")!.inputs.environment ?? {}) as object,
                );
                expect(
                    inputs.filter(k => /index_ts|gitignore/.test(k)),
                    stack,
                ).toEqual([]);
            }
        });
    }

    it("takes over the provision-configs objects when asked: native objects marked for helm to keep", () => {
        const dir = repositoryCopy(INIT_SOURCES.chart);
        expect(kaptain(["init", dir, "--provision-configs", "take-over"]).status).toBe(0);
        linkSdk(dir);
        expect(kaptain(["synth", "--project", dir, "--stack", "shop"]).status).toBe(0);
        const manifests = path.join(dir, "out/shop/manifests");
        expect(fs.readdirSync(manifests).sort()).toEqual([
            "shop.configmap.shop.yaml",
            "shop.secret.rclone-config.yaml",
            "shop.secret.shop.yaml",
        ]);
        for (const file of fs.readdirSync(manifests)) {
            expect(fs.readFileSync(path.join(manifests, file), "utf8"), file).toContain(
                "helm.sh/resource-policy: keep",
            );
        }
    });
});

describe("kaptain init on the command line", () => {
    it("refuses a folder that is not a kaptain repository: exit 1, one line, nothing written", () => {
        const dir = writeTree(tempDir(), { "notes.txt": "x\n" });
        const run = kaptain(["init", dir]);
        expect(run.status).toBe(1);
        expect(run.stdout).toBe("");
        expect(run.stderr).toBe(
            `kaptain init: ${dir} is not a kaptain repository: no helmfile.yaml, helmfile.yaml.gotmpl, ` +
                "helmfile.d at its top level or in namespaces/<namespace>/\n",
        );
        expect(listFilesUnder(dir)).toEqual(["notes.txt"]);
    });

    it("runs in the current folder by default and says what to run next", () => {
        const dir = repositoryCopy(INIT_SOURCES["root-only"], "web");
        const run = kaptain(["init"], dir);
        expect(run.status).toBe(0);
        expect(run.stdout).toContain("  Pulumi.web.yaml  (namespace web from the repository's root;");
        expect(run.stdout).toMatch(/Next:\n {2}npm install .*\n {2}npx kaptain synth --stack web .*\n/);
    });

    it("rejects bad arguments with exit 2", () => {
        expect(kaptain(["init", "--provision-configs", "adopt"]).status).toBe(2);
        expect(kaptain(["init", "a", "b"]).status).toBe(2);
        expect(kaptain(["init", "--nope"]).status).toBe(2);
    });
});
