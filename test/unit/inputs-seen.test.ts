// Issue 15, class 4: every file a phase reads is an input wherever it lies; a FIFO or a
// device where the program reads is an error naming it, never a hang; a folder holding
// two default helmfiles is refused as helmfile refuses it.
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { FingerprintGroup } from "../../sdk/fingerprint";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { componentModeRepo, copyFixture, errorOf, tempDir, writeTree } from "../support/fixture";

const SDK = path.resolve(__dirname, "../../sdk");

function digests(groups: readonly FingerprintGroup[]): Record<string, string> {
    return Object.fromEntries(groups.map(g => [g.group, `${g.digest}/${g.files}`]));
}

/** The groups whose digest differs between two fingerprints (added and removed ones too). */
function changedGroups(a: readonly FingerprintGroup[], b: readonly FingerprintGroup[]): string[] {
    const left = digests(a);
    const right = digests(b);
    return [...new Set([...Object.keys(left), ...Object.keys(right)])].filter(k => left[k] !== right[k]).sort();
}

function fingerprintOf(args: Parameters<typeof resolveInfrastructure>[0], programDirectory: string) {
    return resolveInfrastructure(args, programDirectory).fingerprint;
}

describe("a hooks file or helmfile outside the repository is an input", () => {
    it("an edit to a hooks file outside the repository changes its own group, and only that", () => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        const hooks = path.join(root, "shared", "hooks.sh");
        writeTree(root, { "shared/hooks.sh": 'HOOK=$1\n[ "$HOOK" = make-config ] && embed_config app\n' });
        const args = { namespace: "dev", workingDirectory: repo, hooks };
        const before = fingerprintOf(args, root);
        fs.appendFileSync(hooks, "# edited\n");
        expect(changedGroups(before, fingerprintOf(args, root))).toEqual(["@hooks/hooks.sh"]);
    });

    it("a hooks file in another namespace's folder is an input of this one", () => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        writeTree(repo, { "namespaces/prod/hooks.sh": "HOOK=$1\n" });
        const args = { namespace: "dev", workingDirectory: repo, hooks: "../prod/hooks.sh" };
        const before = fingerprintOf(args, root);
        fs.appendFileSync(path.join(repo, "namespaces/prod/hooks.sh"), "# edited\n");
        expect(changedGroups(before, fingerprintOf(args, root))).toEqual(["@hooks/hooks.sh"]);
    });

    it("an outside helmfile counts with the folder it resolves its paths against, the repository left out", () => {
        const root = tempDir();
        // The repository sits inside the helmfile's folder: it is walked once, as the repository.
        const shared = path.join(root, "platform");
        const repo = copyFixture(path.join(shared, "infra"));
        writeTree(shared, {
            "helmfile.yaml": "releases:\n  - name: app\n    chart: ./charts/app\n    values: [values/app.yaml]\n",
            "values/app.yaml": "replicas: 1\n",
            "charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
        });
        const args = {
            namespace: "dev",
            workingDirectory: repo,
            helmfile: { file: path.join(shared, "helmfile.yaml") },
        };
        const before = fingerprintOf(args, root);
        expect(before.filter(g => g.group.startsWith("@")).map(g => g.group)).toEqual([
            "@helmfile.file/charts/app",
            "@helmfile.file/helmfile.yaml",
            "@helmfile.file/values/app.yaml",
        ]);
        fs.writeFileSync(path.join(shared, "values/app.yaml"), "replicas: 2\n");
        const afterValues = fingerprintOf(args, root);
        expect(changedGroups(before, afterValues)).toEqual(["@helmfile.file/values/app.yaml"]);
        fs.appendFileSync(path.join(shared, "helmfile.yaml"), "# edited\n");
        expect(changedGroups(afterValues, fingerprintOf(args, root))).toEqual(["@helmfile.file/helmfile.yaml"]);
    });

    it("gives the same inputs for the same outside files anywhere on disk (no absolute path counts)", () => {
        const clone = () => {
            const root = tempDir();
            const repo = copyFixture(path.join(root, "repo"));
            writeTree(root, { "shared/hooks.sh": "HOOK=$1\n", "shared/helmfile.yaml": "releases: []\n" });
            return fingerprintOf(
                {
                    namespace: "dev",
                    workingDirectory: repo,
                    hooks: path.join(root, "shared/hooks.sh"),
                    helmfile: { file: path.join(root, "shared/helmfile.yaml") },
                },
                root,
            );
        };
        expect(clone()).toEqual(clone());
    });

    it("adds nothing for a hooks file and helmfile inside the repository", () => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        const plain = fingerprintOf({ namespace: "dev", workingDirectory: repo }, root);
        const named = fingerprintOf(
            { namespace: "dev", workingDirectory: repo, hooks: "hooks.sh", helmfile: { file: "helmfile.yaml" } },
            root,
        );
        expect(named).toEqual(plain);
    });
});

/**
 * Constructs an Infrastructure under the mocks in a child process, so that a read that
 * blocks on a FIFO cannot hang the test runner; returns what construction said: the
 * error, or "constructed" once every registration settled. A child still blocked after
 * the bound is killed, and the run says it hung.
 */
function constructInChild(args: Record<string, unknown>, programDirectory: string): string {
    const code = `
        require("@pulumi/pulumi");
        require("@pulumi/kubernetes/core/v1");
        require("@pulumi/command");
        require("tsx/cjs/api").register();
        const report = text => { process.stdout.write(text); process.exit(0); };
        process.on("unhandledRejection", err => report(err.message));
        process.on("uncaughtException", err => report(err.message));
        (async () => {
            const engine = await require(${JSON.stringify(path.join(SDK, "synth/engine.ts"))}).startEngine();
            const { Infrastructure } = require(${JSON.stringify(path.join(SDK, "index.ts"))});
            try {
                new Infrastructure("geo", JSON.parse(process.env.KAPTAIN_TEST_ARGS));
            } catch (err) {
                report(err.message);
            }
            await engine.settle();
            report("constructed");
        })();`;
    const run = spawnSync(process.execPath, ["-e", code], {
        cwd: programDirectory,
        env: {
            ...process.env,
            NODE_PATH: path.resolve(SDK, "../node_modules"),
            KAPTAIN_TEST_ARGS: JSON.stringify(args),
        },
        encoding: "utf8",
        timeout: 45_000,
        killSignal: "SIGKILL",
    });
    if (run.signal !== null) {
        return `hung: killed by ${run.signal}`;
    }
    return run.stdout || run.stderr;
}

function mkfifo(file: string): string {
    fs.rmSync(file, { force: true });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    execFileSync("mkfifo", [file]);
    return file;
}

describe("a FIFO or a device where the program reads is an error naming it, never a hang", () => {
    const FIFO = "is a FIFO (named pipe), not a regular file";

    it.each([
        ["the namespace's hooks.sh", "namespaces/dev/hooks.sh", "`hooks` "],
        ["a values file the mode detection reads", "configs/provision-configs/values.yaml", "`workingDirectory` "],
        ["secret.yaml", "secret.yaml", "`workingDirectory` "],
        ["a chart's Chart.yaml", "charts/seed-data/Chart.yaml", "`workingDirectory` "],
        ["a helmfile", "namespaces/dev/helmfile.yaml", "`workingDirectory` "],
        ["any other file in the repository", "configs/app/pipe", "`workingDirectory` "],
    ])("%s", (_what, rel, argument) => {
        const repo = componentModeRepo();
        mkfifo(path.join(repo, rel));
        const said = constructInChild({ namespace: "dev", workingDirectory: repo }, path.dirname(repo));
        expect(said).toContain(argument);
        expect(said).toMatch(new RegExp(`(^|[ /])${rel.replace(/[.]/g, "\\.")} ${FIFO.replace(/[()]/g, "\\$&")}`));
    });

    it("a hooks file named by the argument", () => {
        const repo = componentModeRepo();
        const hooks = mkfifo(path.join(tempDir(), "hooks.sh"));
        const said = constructInChild({ namespace: "dev", workingDirectory: repo, hooks }, path.dirname(repo));
        expect(said).toContain(`\`hooks\` names ${hooks}, which ${FIFO}`);
    });

    it("a secret file named by the argument", () => {
        const repo = componentModeRepo();
        const secret = mkfifo(path.join(tempDir(), "secret.yaml"));
        const said = constructInChild(
            { namespace: "dev", workingDirectory: repo, provisionConfigs: { secretFile: secret } },
            path.dirname(repo),
        );
        expect(said).toContain(`\`provisionConfigs.secretFile\` names ${secret}, which ${FIFO}`);
    });

    it.each([
        ["read by the phases only", { provisionConfigs: false }],
        ["read by the native objects' provider too", { createNamespace: true }],
    ])("a kubeconfig path %s", (_what, extra) => {
        const repo = componentModeRepo();
        const programDirectory = path.dirname(repo);
        const kubeconfig = mkfifo(path.join(programDirectory, "kubeconfig.yaml"));
        const said = constructInChild(
            { namespace: "dev", workingDirectory: repo, kubeconfig: "kubeconfig.yaml", ...extra },
            programDirectory,
        );
        expect(said).toContain(`\`kubeconfig\`: ${kubeconfig} ${FIFO}`);
    });

    it("a link to a device in the repository", () => {
        const repo = componentModeRepo();
        fs.symlinkSync("/dev/zero", path.join(repo, "configs/app/zero"));
        const said = constructInChild({ namespace: "dev", workingDirectory: repo }, path.dirname(repo));
        expect(said).toContain("configs/app/zero is a character device, not a regular file or folder");
    });
});

describe("a folder holding two default helmfiles is refused, as helmfile refuses it", () => {
    it.each([
        ["helmfile.yaml.gotmpl", "helmfile.yaml and helmfile.yaml.gotmpl"],
        ["helmfile.d/a.yaml", "helmfile.yaml and helmfile.d"],
    ])("in the namespace folder: helmfile.yaml and %s", (extra, named) => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        writeTree(repo, { [`namespaces/dev/${extra}`]: "releases: []\n" });
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: repo }, root));
        expect(err.message).toContain(
            `\`helmfile.file\` is not set, and ${path.join(repo, "namespaces/dev")} holds ${named}: ` +
                "helmfile refuses to choose between them",
        );
    });

    it("in the repository root, which a namespace folder without a helmfile falls back to", () => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        fs.rmSync(path.join(repo, "namespaces/dev/helmfile.yaml"));
        writeTree(repo, { "helmfile.yaml.gotmpl": "releases: []\n" });
        const err = errorOf(() => resolveInfrastructure({ namespace: "dev", workingDirectory: repo }, root));
        expect(err.message).toContain(
            `\`helmfile.file\` is not set, and ${repo} holds helmfile.yaml and helmfile.yaml.gotmpl`,
        );
    });

    it("in the repository root whose helmfile the namespace's includes: the mode cannot be read from it", () => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        writeTree(repo, { "helmfile.yaml.gotmpl": "releases: []\n" });
        for (const helmfile of [undefined, { file: "helmfile.yaml" }]) {
            const err = errorOf(() =>
                resolveInfrastructure({ namespace: "dev", workingDirectory: repo, helmfile }, root),
            );
            expect(err.message).toContain(
                `\`workingDirectory\` is the repository root, and ${repo} holds helmfile.yaml and helmfile.yaml.gotmpl`,
            );
        }
    });

    it("is accepted once `helmfile.file` names the one to run", () => {
        const root = tempDir();
        const repo = copyFixture(path.join(root, "repo"));
        writeTree(repo, { "namespaces/dev/helmfile.yaml.gotmpl": "releases: []\n" });
        const { layout } = resolveInfrastructure(
            { namespace: "dev", workingDirectory: repo, helmfile: { file: "helmfile.yaml" } },
            root,
        );
        expect(layout.helmfileFile).toBe("./helmfile.yaml");
    });

    it("decides the provision-configs mode from the helmfile the phases run, not one helmfile ignores", () => {
        const repo = componentModeRepo();
        // A stale helmfile beside the one named: helmfile never reads it.
        writeTree(repo, {
            "namespaces/dev/helmfile.yaml.gotmpl":
                "releases:\n  - name: provision-configs\n    chart: ./provision-configs\n",
        });
        const resolved = resolveInfrastructure(
            { namespace: "dev", workingDirectory: repo, helmfile: { file: "helmfile.yaml" } },
            path.dirname(repo),
        );
        expect(resolved.provisionConfigs).toMatchObject({ secretFile: "secret.yaml" });
    });
});
