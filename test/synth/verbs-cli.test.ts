// kaptain's verbs on the command line, where no engine is needed: what they say and
// return when the Pulumi CLI is missing or the arguments are wrong. (Runs through the
// engine: test/e2e/engine/verbs.test.ts.)
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { exampleProject, kaptain } from "../support/synth-project";

describe("kaptain's verbs on the command line", () => {
    const project = exampleProject();

    it("says plainly that the Pulumi CLI is not on PATH, and exits 1", () => {
        const run = kaptain(["install", "dev"], project, { PATH: path.join(project, "no-such-folder") });
        expect(run.stdout).toBe("");
        expect(run.stderr).toBe(
            "kaptain install: the Pulumi CLI (`pulumi`) is not on PATH: kaptain's verbs run it. Install it " +
                "(https://www.pulumi.com/docs/install/) and run again; `kaptain synth` needs no CLI\n",
        );
        expect(run.status).toBe(1);
    });

    it("names an unknown stack before anything runs, and exits 2 as the Pulumi CLI does for bad configuration", () => {
        const run = kaptain(["uninstall", "staging", "--project", project]);
        expect(run.stderr).toBe(
            `kaptain uninstall: unknown stack 'staging': no Pulumi.staging.yaml in ${project} (stacks: dev, prod)\n`,
        );
        expect(run.status).toBe(2);
    });

    it("asks for exactly one stack", () => {
        for (const args of [["install"], ["diff", "dev", "prod"]]) {
            const run = kaptain(args, project);
            expect(run.status, args.join(" ")).toBe(2);
            expect(run.stderr, args.join(" ")).toContain("name one stack (the namespace)");
        }
    });
});
