// `liveDiff`, as a hostile review attacked it: each test here failed against f76f80b.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { describeClusterTarget } from "../../sdk/kubeconfig";
import { LIVE_DIFF_VARIABLE, liveDiffValue, NO_LIVE_CHANGES, parseHelmfileDiff } from "../../sdk/live-diff";
import { DIFF_SCRIPT_VARIABLE, keepStoredLiveDiff } from "../../sdk/live-diff-phase";
import { copyFixture, tempDir } from "../support/fixture";
import { captured, commandOf, runProgram } from "../support/program";

const repo = copyFixture(path.join(tempDir(), "repo"));
const recorded = (name: string) =>
    fs.readFileSync(path.resolve(__dirname, "../fixtures/helmfile-diff", `${name}.txt`), "utf8");
const OK = "\nkaptain-live-diff-status=0\n";
type RunInputs = Record<string, unknown> & { environment?: Record<string, string> };

async function liveRun(answer: (inputs: RunInputs) => { stdout?: string; stderr?: string }) {
    const engine = await runProgram(
        async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("geo", {
                namespace: "dev",
                workingDirectory: repo,
                kubeconfig: "apiVersion: v1\nkind: Config\n",
                phases: { provision: true },
                liveDiff: true,
            });
        },
        { run: inputs => answer(inputs as RunInputs) },
    );
    return engine;
}

async function liveValues(answer: (inputs: RunInputs) => { stdout?: string; stderr?: string }) {
    const engine = await liveRun(answer);
    return Object.fromEntries(
        ["config", "install", "provision"].map(p => [
            p,
            captured(commandOf(engine, `geo-${p}`)).environment[LIVE_DIFF_VARIABLE],
        ]),
    );
}

describe("review: the component-wide gate", () => {
    it("an install diff that fails because the config phase has not deployed yet (its CRDs) does not stop the config phase", async () => {
        // helm-diff, for a release whose objects are of a kind the config phase installs: until
        // config deploys, this diff cannot pass; if config refuses too, no `up` ever can.
        const values = await liveValues(inputs =>
            String(inputs.environment?.[DIFF_SCRIPT_VARIABLE]).includes("action=install")
                ? {
                      stdout:
                          "Comparing release=app, chart=charts/app, namespace=dev\n" +
                          'Error: unable to build kubernetes objects from release manifest: resource mapping not found for name: "web" ' +
                          'namespace: "dev" from "": no matches for kind "Certificate" in version "cert-manager.io/v1"\n' +
                          "ensure CRDs are installed first\n",
                      stderr: "kaptain: diff: error: failed during step 'helmfile diff' (exit status 1)\nkaptain-live-diff-status=1\n",
                  }
                : { stdout: recorded("none"), stderr: OK },
        );
        expect(values).toEqual({ config: NO_LIVE_CHANGES, install: NO_LIVE_CHANGES, provision: NO_LIVE_CHANGES });
    });
});

describe("review: what the parser misses", () => {
    // helm-diff colours its headers when HELM_DIFF_COLOR=true (inherited from the shell running
    // pulumi: helpers.sh drops only KAPTAIN_* variables); helmfile's own summary stays plain.
    const colored = recorded("changed").replace(
        /^(\S+, \S+, \S+ \([^)]*\) has (?:been added|changed|been removed):)$/gm,
        "\x1b[33m$1\x1b[0m",
    );

    it("a diff that helmfile says changed releases is never read as `none` (coloured helm-diff output)", () => {
        expect(colored).toContain("Affected releases are:");
        expect(colored).toContain("Identified at least one change");
        expect(liveDiffValue(parseHelmfileDiff(colored), new Date())).not.toBe(NO_LIVE_CHANGES);
    });
});

describe("review: the unreachable-cluster message", () => {
    it("never shows credentials a server URL carries", () => {
        const kubeconfig = [
            "current-context: prod",
            "contexts: [{ name: prod, context: { cluster: big } }]",
            "clusters: [{ name: big, cluster: { server: 'https://admin:hunter2@10.0.0.1:6443' } }]",
        ].join("\n");
        expect(describeClusterTarget(kubeconfig, undefined)).not.toContain("hunter2");
    });

    it("describes a malformed kubeconfig instead of throwing (a rejected input hangs an Automation API program)", () => {
        expect(() => describeClusterTarget("current-context: prod\ncontexts: {}\n", undefined)).not.toThrow();
        expect(() =>
            describeClusterTarget("current-context: prod\ncontexts: []\nclusters: 5\n", undefined),
        ).not.toThrow();
    });
});

describe("review: an unreachable cluster", () => {
    it("is one error, not one per phase (the e2e scenario runs a single phase)", async () => {
        const engine = await liveRun(() => ({
            stdout: 'Error: Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": dial tcp: connection refused\n',
            stderr: "kaptain: diff: error: failed during step 'helmfile diff' (exit status 1)\nkaptain-live-diff-status=1\n",
        }));
        expect(engine.errors.filter(e => e.includes("cannot reach the cluster"))).toHaveLength(1);
    });
});

describe("review: keepStoredLiveDiff and wire-form secrets", () => {
    it("finds `none` in an environment the SDK deserialized from wire-form secrets (the secret moves up to the map)", async () => {
        const rpc = require("@pulumi/pulumi/runtime/rpc") as { deserializeProperty(v: unknown): unknown };
        const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
        const environment = rpc.deserializeProperty({
            KAPTAIN_INPUT_x: { ...SECRET, value: "digest" },
            [LIVE_DIFF_VARIABLE]: NO_LIVE_CHANGES,
        });
        const result = (await keepStoredLiveDiff({
            custom: true,
            type: "command:local:Command",
            name: "geo-install",
            props: { environment },
            opts: {},
        })) as { opts: pulumi.ResourceOptions } | undefined;
        expect(result?.opts.ignoreChanges).toEqual([`environment.${LIVE_DIFF_VARIABLE}`]);
    });
});
