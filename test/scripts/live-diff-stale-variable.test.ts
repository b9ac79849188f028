// `liveDiff`: a KAPTAIN_LIVE_DIFF left in the shell running pulumi (liveDiff off: the
// Command sets none) changes nothing of a phase, its delete (`pulumi destroy`) included.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { copyFixture, tempDir } from "../support/fixture";
import { captured, CapturedCommand, commandOf, runProgram } from "../support/program";
import { runCaptured } from "../support/run-script";

const root = tempDir();
const repo = path.join(root, "repo");
let install: CapturedCommand;

beforeAll(async () => {
    copyFixture(repo);
    const engine = await runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        new Infrastructure("geo", {
            namespace: "dev",
            workingDirectory: repo,
            kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n",
            hooks: false,
        });
    });
    install = captured(commandOf(engine, "geo-install"));
});

function run(which: "create" | "delete") {
    const record = fs.mkdtempSync(path.join(root, "record-"));
    const runtimeDir = fs.mkdtempSync(path.join(root, "xdg-"));
    return runCaptured(install, which, {
        programDirectory: process.cwd(),
        env: {
            HELMFILE_RECORD: record,
            FIXTURE_RECORD: record,
            XDG_RUNTIME_DIR: runtimeDir,
            KAPTAIN_LIVE_DIFF: "failed 2026-12-01T05:00:00Z",
        },
    });
}

describe("a KAPTAIN_LIVE_DIFF left in the shell running pulumi (liveDiff off)", () => {
    it("does not stop the phase from deploying", () => {
        expect(install.environment).not.toHaveProperty("KAPTAIN_LIVE_DIFF");
        const result = run("create");
        expect(result.stderr).not.toContain("not deploying");
        expect(result.status, result.stderr).toBe(0);
    });

    it("does not stop its delete (helmfile destroy on pulumi destroy)", () => {
        const result = run("delete");
        expect(result.stderr).not.toContain("not deploying");
        expect(result.status, result.stderr).toBe(0);
    });
});
