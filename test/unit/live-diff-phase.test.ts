// `liveDiff`: what a phase Command is registered with, on and off; what its invoke runs;
// what carries the finding into the Command, and what keeps it from flipping back.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { describeClusterTarget } from "../../sdk/kubeconfig";
import { LIVE_DIFF_VARIABLE, liveDiffValue, NO_LIVE_CHANGES, parseHelmfileDiff } from "../../sdk/live-diff";
import { DIFF_SCRIPT_VARIABLE, diffFailure, keepStoredLiveDiff } from "../../sdk/live-diff-phase";
import { infrastructureArgsFromConfig } from "../../sdk/config";
import { copyFixture, tempDir } from "../support/fixture";
import { renderingRepository, runShop } from "../support/helmfile-build";
import { captured, COMMAND_TYPE, commandOf, outputValue, runProgram } from "../support/program";

const root = tempDir();
const repo = copyFixture(path.join(root, "repo"));
const KUBECONFIG = [
    "apiVersion: v1",
    "kind: Config",
    "current-context: prod",
    "contexts:",
    "  - name: prod",
    "    context: { cluster: big, user: admin }",
    "clusters:",
    "  - name: big",
    "    cluster: { server: 'https://10.0.0.1:6443' }",
    "users:",
    "  - name: admin",
    "    user: { token: s3cr3t-token-value }",
    "",
].join("\n");
const recorded = (name: string) =>
    fs.readFileSync(path.resolve(__dirname, "../fixtures/helmfile-diff", `${name}.txt`), "utf8");
const OK = "\nkaptain-live-diff-status=0\n";

type RunInputs = Record<string, unknown> & { environment?: Record<string, string>; command?: string };

/** Runs an Infrastructure whose live diff invokes get `answer`; returns what ran. */
async function withLiveDiff(answer: (inputs: RunInputs) => { stdout?: string; stderr?: string }, liveDiff = true) {
    const invokes: RunInputs[] = [];
    const engine = await runProgram(
        async () => {
            const { Infrastructure } = await import("../../sdk");
            new Infrastructure("geo", {
                namespace: "dev",
                workingDirectory: repo,
                kubeconfig: KUBECONFIG,
                phases: { provision: true },
                liveDiff,
            });
        },
        {
            run: inputs => {
                invokes.push(inputs as RunInputs);
                return answer(inputs as RunInputs);
            },
        },
    );
    return { engine, invokes };
}

describe("liveDiff off (the default)", () => {
    it("runs no diff, adds no variable and no transform, and ignores a finding an earlier liveDiff left in the state", async () => {
        const { engine, invokes } = await withLiveDiff(() => ({ stdout: "", stderr: OK }), false);
        expect(invokes).toEqual([]);
        for (const phase of ["config", "install", "provision"]) {
            const cmd = commandOf(engine, `geo-${phase}`);
            expect(Object.keys(captured(cmd).environment)).not.toContain(LIVE_DIFF_VARIABLE);
            expect(cmd.transforms).toBe(0);
            expect(cmd.ignoreChanges).toEqual([`environment.${LIVE_DIFF_VARIABLE}`]);
        }
    });
});

describe("liveDiff on", () => {
    it("runs each phase's diff action where its Command runs, with its kubeconfig on stdin and nothing logged", async () => {
        const { engine, invokes } = await withLiveDiff(() => ({ stdout: recorded("none"), stderr: OK }));
        expect(invokes).toHaveLength(3);
        const outputs = engine.outputs.get(engine.find("kaptain:index:Infrastructure", "geo")!.urn)!;
        const diffScripts = outputs.diffScripts as Record<string, string>;
        for (const phase of ["config", "install", "provision"]) {
            const cmd = captured(commandOf(engine, `geo-${phase}`));
            const invoke = invokes.find(i => i.environment?.[DIFF_SCRIPT_VARIABLE] === diffScripts[phase]);
            expect(invoke, phase).toBeDefined();
            expect(invoke!.dir).toBe(cmd.dir);
            expect(invoke!.stdin).toBe(KUBECONFIG);
            expect(invoke!.logging).toBe("none");
            expect(invoke!.interpreter).toEqual(["bash", "-c"]);
            // The Command's variables, not its scripts (nor the finding it is about to make).
            const {
                KAPTAIN_SCRIPT_CREATE,
                KAPTAIN_SCRIPT_DELETE,
                KAPTAIN_SHARED,
                [LIVE_DIFF_VARIABLE]: live,
                ...shared
            } = cmd.environment;
            expect(KAPTAIN_SCRIPT_CREATE).toBeDefined();
            expect(KAPTAIN_SCRIPT_DELETE).toBeDefined();
            expect(KAPTAIN_SHARED).toMatch(/^[0-9a-f]{64}$/);
            expect(live).toBe(NO_LIVE_CHANGES);
            const {
                [DIFF_SCRIPT_VARIABLE]: _script,
                HELM_DIFF_COLOR: color,
                HELM_DIFF_OUTPUT: format,
                ...sent
            } = invoke!.environment!;
            // helm-diff's plain format, which the parser reads, whatever the shell says.
            expect([color, format]).toEqual(["false", "diff"]);
            expect(sent).toEqual(shared);
            expect(invoke!.command).toContain(`"$${DIFF_SCRIPT_VARIABLE}"`);
        }
    });

    it("with nothing to change: the variable reads `none`, plain, and nothing is logged (under mocks, no transform: they take none)", async () => {
        const info = vi.spyOn(pulumi.log, "info");
        try {
            const { engine } = await withLiveDiff(() => ({ stdout: recorded("none"), stderr: OK }));
            const cmd = commandOf(engine, "geo-install");
            expect(captured(cmd).environment[LIVE_DIFF_VARIABLE]).toBe(NO_LIVE_CHANGES);
            expect(cmd.redactedInputs.environment).toMatchObject({ [LIVE_DIFF_VARIABLE]: NO_LIVE_CHANGES });
            expect(cmd.transforms).toBe(0);
            expect(cmd.ignoreChanges).toEqual([]);
            expect(info.mock.calls.filter(([m]) => String(m).includes("live diff"))).toEqual([]);
        } finally {
            info.mockRestore();
        }
    });

    it("with releases to change: the variable names them and when, plain; the phase logs one line per release, no value", async () => {
        const info = vi.spyOn(pulumi.log, "info");
        try {
            const { engine } = await withLiveDiff(inputs =>
                String(inputs.environment?.[DIFF_SCRIPT_VARIABLE]).includes("action=install")
                    ? { stdout: recorded("changed"), stderr: OK }
                    : { stdout: recorded("none"), stderr: OK },
            );
            const value = captured(commandOf(engine, "geo-install")).environment[LIVE_DIFF_VARIABLE];
            expect(value).toMatch(
                /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ~web\(1 added\) ~fleet-7\(1 changed\) ~app\(1 changed\)$/,
            );
            expect(captured(commandOf(engine, "geo-config")).environment[LIVE_DIFF_VARIABLE]).toBe(NO_LIVE_CHANGES);
            const logged = info.mock.calls.filter(([m]) => String(m).includes("live diff"));
            expect(logged).toHaveLength(1);
            const [message, resource] = logged[0];
            expect(message).toBe(
                "live diff: 3 releases would change (secrets suppressed; `kaptain diff` shows the full diff):\n" +
                    "~ web      upgraded: 1 added\n~ fleet-7  upgraded: 1 changed\n~ app      upgraded: 1 changed",
            );
            expect(message).not.toContain("7-two");
            expect((await outputValue((resource as pulumi.CustomResource).urn)).value).toBe(
                commandOf(engine, "geo-install").urn,
            );
        } finally {
            info.mockRestore();
        }
    });

    it("an unreachable cluster: one error naming the context and server, logged, not thrown", async () => {
        {
            const { engine } = await withLiveDiff(inputs =>
                String(inputs.environment?.[DIFF_SCRIPT_VARIABLE]).includes("action=install")
                    ? {
                          stdout: 'Error: Kubernetes cluster unreachable: Get "https://10.0.0.1:6443/version": dial tcp: connection refused\nvalue: hunter2',
                          stderr: "kaptain: diff: error: failed during step 'helmfile diff' (exit status 1)\nkaptain-live-diff-status=1\n",
                      }
                    : { stdout: recorded("none"), stderr: OK },
            );
            expect(engine.errors).toEqual([
                "geo: the live diff (`liveDiff`) cannot reach the cluster, " +
                    'context "prod" (server https://10.0.0.1:6443): is it running, and are these the kubeconfig and ' +
                    "the context the phases should use? Set `liveDiff: false` to deploy without it.",
            ]);
            // Nothing found: the phases deploy as without it (and would fail the same way).
            for (const phase of ["config", "install", "provision"]) {
                const value = captured(commandOf(engine, `geo-${phase}`)).environment[LIVE_DIFF_VARIABLE];
                expect(value, phase).toBe(NO_LIVE_CHANGES);
            }
        }
    });
});

describe("liveDiff on a helmfile that renders", () => {
    it("runs one diff for the component, kaptain's own, and shows each phase its releases' changes", async () => {
        const { repo, binary } = renderingRepository();
        const invokes: RunInputs[] = [];
        const info = vi.spyOn(pulumi.log, "info");
        try {
            const engine = await runShop(
                { repo, binary },
                { liveDiff: true },
                {
                    run: inputs => {
                        invokes.push(inputs as RunInputs);
                        return { stdout: recorded("changed"), stderr: OK };
                    },
                },
            );
            expect(invokes).toHaveLength(1);
            const script = invokes[0].environment![DIFF_SCRIPT_VARIABLE];
            expect(script).toContain(
                "--selector action=config --selector action=install --selector action=provision diff",
            );
            expect(script).not.toContain("--skip-needs");
            const value = (phase: string) =>
                captured(commandOf(engine, `shop-${phase}`)).environment[LIVE_DIFF_VARIABLE];
            expect(value("install")).toMatch(/Z ~web\(1 added\) ~fleet-7\(1 changed\) ~app\(1 changed\)$/);
            expect(value("config")).toBe(NO_LIVE_CHANGES);
            expect(value("provision")).toBe(NO_LIVE_CHANGES);
            expect(info.mock.calls.filter(([m]) => String(m).includes("live diff"))).toHaveLength(1);
        } finally {
            info.mockRestore();
        }
    });
});

describe("diffFailure", () => {
    const args = { component: "geo", subject: "the install phase" };

    it("is nothing when the diff ended with status 0, whatever it printed", () => {
        expect(diffFailure(args, "connection refused", "kaptain-live-diff-status=0\n", "x")).toBeUndefined();
    });

    it("names the step and cause from pulumi-kaptain's own lines, never helmfile's or the hooks' output", () => {
        const failure = diffFailure(
            args,
            "password: hunter2\nError: template: boom",
            "kaptain: diff: helmfile diff\nsome hook said hunter2\nkaptain: diff: error: failed during step 'helmfile diff' (exit status 1)\n\nkaptain-live-diff-status=1",
            'context "dev"',
        )!;
        const message = failure.message;
        expect(failure.unreachable).toBe(false);
        expect(message).toContain("geo: the live diff of the install phase (`liveDiff`) failed (exit status 1):");
        expect(message).toContain("The phases deploy as without it");
        expect(message).toContain("kaptain: diff: error: failed during step 'helmfile diff' (exit status 1)");
        expect(message).toContain("`kaptain diff` prints it in a terminal");
        expect(message).not.toContain("hunter2");
    });

    it("says so when the script never reported its status", () => {
        expect(diffFailure(args, "", "", "x")?.message).toContain("(it did not finish)");
    });
});

describe("keepStoredLiveDiff", () => {
    const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
    const transform = (value: unknown, ignoreChanges?: string[], more: Record<string, unknown> = {}) =>
        keepStoredLiveDiff({
            custom: true,
            type: COMMAND_TYPE,
            name: "geo-install",
            props: { environment: { KAPTAIN_INPUT_x: "d", [LIVE_DIFF_VARIABLE]: value }, ...more },
            opts: { ignoreChanges },
        });

    it("ignores the variable while the diff finds nothing, so the state keeps what it holds", async () => {
        expect(await transform(NO_LIVE_CHANGES, ["stdin"])).toEqual({
            props: { environment: { KAPTAIN_INPUT_x: "d", [LIVE_DIFF_VARIABLE]: NO_LIVE_CHANGES } },
            opts: { ignoreChanges: ["stdin", `environment.${LIVE_DIFF_VARIABLE}`] },
        });
        // As the engine may hand it over: an Output, or a wire-form secret.
        for (const value of [pulumi.output(NO_LIVE_CHANGES), { ...SECRET, value: NO_LIVE_CHANGES }]) {
            const result = (await transform(value)) as { opts: pulumi.ResourceOptions };
            expect(result.opts.ignoreChanges).toEqual([`environment.${LIVE_DIFF_VARIABLE}`]);
        }
    });

    it("hands the properties back in wire form: secrets stay secrets, unknowns unknown, none reads as changed", async () => {
        const result = (await transform(NO_LIVE_CHANGES, [], {
            stdin: pulumi.secret("kubeconfig content"),
            dir: pulumi.output("repo"),
            interpreter: ["bash", "-c"],
            more: { ...SECRET, value: "already wire" },
        })) as { props: Record<string, unknown> };
        expect(result.props).toEqual({
            environment: { KAPTAIN_INPUT_x: "d", [LIVE_DIFF_VARIABLE]: NO_LIVE_CHANGES },
            stdin: { ...SECRET, value: "kubeconfig content" },
            dir: "repo",
            interpreter: ["bash", "-c"],
            more: { ...SECRET, value: "already wire" },
        });
    });

    it("leaves a finding, and an unknown value, to be compared", async () => {
        expect(await transform("2026-12-01T05:00:00Z ~web(1 added)")).toBeUndefined();
        expect(await transform("04da6b54-80e4-46f7-96ec-b56ff0331ba9")).toBeUndefined();
    });
});

describe("liveDiffValue", () => {
    const now = new Date("2026-12-01T05:06:07.890Z");

    it("is `none` for no change, and otherwise the time and each release with its counts", () => {
        expect(liveDiffValue([], now)).toBe(NO_LIVE_CHANGES);
        expect(liveDiffValue(parseHelmfileDiff(recorded("changed")), now)).toBe(
            "2026-12-01T05:06:07Z ~web(1 added) ~fleet-7(1 changed) ~app(1 changed)",
        );
    });

    it("differs for the same finding made again later: the state never already holds it", () => {
        const changes = parseHelmfileDiff(recorded("changed"));
        expect(liveDiffValue(changes, new Date(now.getTime() + 1000))).not.toBe(liveDiffValue(changes, now));
    });

    it("names ten releases, then counts the rest", () => {
        const value = liveDiffValue(parseHelmfileDiff(recorded("new")), now);
        expect(value.match(/ [~+-][\w-]+\(/g)).toHaveLength(10);
        expect(value).toMatch(/ and 12 more$/);
    });
});

describe("describeClusterTarget", () => {
    it("names the context and its server, never a credential", () => {
        expect(describeClusterTarget(KUBECONFIG, undefined)).toBe('context "prod" (server https://10.0.0.1:6443)');
        expect(describeClusterTarget(KUBECONFIG, "other")).toBe('context "other"');
        expect(describeClusterTarget(undefined, undefined)).toBe("the ambient kubeconfig's current context");
        expect(describeClusterTarget(undefined, "ci")).toBe('context "ci" of the ambient kubeconfig');
        expect(describeClusterTarget("{not yaml", undefined)).toBe("the kubeconfig's current context (none is set)");
    });
});

describe("kaptain:liveDiff", () => {
    it("is read from stack config as a boolean, and anything else is refused naming the key", () => {
        pulumi.runtime.setAllConfig({ "kaptain:namespace": "dev", "kaptain:liveDiff": "true" });
        expect(infrastructureArgsFromConfig().liveDiff).toBe(true);
        pulumi.runtime.setAllConfig({ "kaptain:namespace": "dev", "kaptain:liveDiff": '"yes"' });
        expect(() => infrastructureArgsFromConfig()).toThrow(/`kaptain:liveDiff` must be true or false, got "yes"/);
        pulumi.runtime.setAllConfig({});
    });
});

// What a hostile review attacked: each of these failed against f76f80b.

/** The KAPTAIN_LIVE_DIFF each phase gets when its diff answers `answer`. */
async function liveValues(answer: (inputs: RunInputs) => { stdout?: string; stderr?: string }) {
    const { engine } = await withLiveDiff(answer);
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
        const { engine } = await withLiveDiff(() => ({
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
