// Issue 15, class 5: what Pulumi keeps of an Infrastructure (each resource's inputs, with
// secrets encrypted, and the component's outputs) holds no unkeyed digest of an input file.
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../sdk/synth/engine";
import { digestsFoundIn, unkeyedDigests } from "../support/digests";
import { copyFixture, tempDir, writeTree } from "../support/fixture";
import { runInfrastructure } from "../support/program";

const repo = copyFixture(path.join(tempDir(), "repo"));
// Credentials under a name outside the default list, and a plain values file.
writeTree(repo, { "namespaces/dev/secrets.yml": 'password: "4711"\n' });
let engine: Engine;

beforeAll(async () => {
    engine = await runInfrastructure({ namespace: "dev", workingDirectory: repo });
});

describe("the state of an Infrastructure", () => {
    it("holds no file's digest, fingerprint line or group digest in plain text", () => {
        // What the engine stores unencrypted: inputs with every secret replaced, and the
        // components' outputs (all of them: a secret output would show here in plain text too).
        const stored = JSON.stringify([engine.resources.map(r => r.redactedInputs), [...engine.outputs.values()]]);
        const digests = unkeyedDigests({ workingDirectory: repo, namespace: "dev" });
        expect(digests.length).toBeGreaterThan(30);
        expect(digestsFoundIn(stored, digests)).toEqual([]);
    });

    it("still carries one entry per group, so that a preview names the group that changed", () => {
        const install = engine.resources.find(r => r.name === "geo-install")!;
        const environment = install.redactedInputs.environment as Record<string, string>;
        expect(environment.KAPTAIN_INPUT_namespaces_dev_secrets_yml).toBe("[secret]");
        expect(environment.KAPTAIN_INPUT_configs_app).toBe("[secret]");
    });
});
