import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { SYNTH_OUTPUT_MARKER } from "../../sdk/fingerprint";
import { replaceFolder } from "../../sdk/synth/out-folder";
import type { Plan } from "../../sdk/synth/synth";
import { readTree, tempDir, writeTree } from "../support/fixture";
import { REPO_ROOT } from "../support/program";
import { CliRun, exampleProject, kaptain, listFiles } from "../support/synth-project";

const SECRET_VALUES = ["example-not-a-real-password", "example-not-a-real-token"];

function synthIn(project: string, ...args: string[]) {
    return kaptain(["synth", "--project", project, ...args]);
}

function everythingUnder(dir: string): string {
    return listFiles(dir)
        .map(f => fs.readFileSync(path.join(dir, f), "utf8"))
        .join("\n");
}

describe("kaptain synth on the example", () => {
    const project = exampleProject();
    const first = synthIn(project, "--stack", "dev");
    const out = path.join(project, "out", "dev");

    it("exits 0 and writes the plan, the manifests and every phase's scripts", () => {
        expect(first.stderr).toBe("");
        expect(first.status).toBe(0);
        expect(listFiles(out)).toEqual([
            ".kaptain-synth-output",
            "manifests/dev.configmap.dev.yaml",
            "manifests/dev.secret.dev.yaml",
            "manifests/dev.secret.rclone-config.yaml",
            "manifests/namespace.dev.yaml",
            ...["config", "install"].flatMap(p =>
                ["create.sh", "delete.sh", "diff.sh", "env", "update.sh"].map(s => `phases/${p}.${s}`),
            ),
            "plan.json",
        ]);
    });

    it("prints the tree and the phases in order with what each runs", () => {
        expect(first.stdout).toContain("└─ kaptain:index:Infrastructure geo");
        expect(first.stdout).toMatch(
            /1\. config .*helmfile --environment dev --file \.\.\/\.\.\/helmfile\.yaml\.gotmpl --selector action=config apply --concurrency 4 --suppress-secrets --hide-notes\n/,
        );
        expect(first.stdout).toMatch(
            /2\. install .*--selector action=install apply --concurrency 4 --skip-needs --suppress-secrets --hide-notes\n/,
        );
        expect(first.stdout).toContain("No previous synth of this stack");
    });

    it("writes plan.json with URN, type, name, parent, dependencies and inputs in registration order", () => {
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as Plan;
        expect(plan.stack).toBe("dev");
        const install = plan.resources.find(r => r.name === "geo-install")!;
        const config = plan.resources.find(r => r.name === "geo-config")!;
        expect(install.urn).toBe(
            "urn:pulumi:dev::geo-platform::kaptain:index:Infrastructure$command:local:Command::geo-install",
        );
        expect(install.parent).toBe(plan.resources.find(r => r.name === "geo")!.urn);
        const namespace = plan.resources.find(r => r.name === "geo-namespace")!;
        const secret = plan.resources.find(r => r.name === "geo-provision-configs-namespace-secret")!;
        // Namespace -> config phase -> provision-configs objects -> install.
        expect(config.dependencies).toEqual([namespace.urn]);
        expect(secret.dependencies).toEqual([config.urn]);
        expect(install.dependencies).toContain(secret.urn);
        expect(install.dependencies).not.toContain(config.urn);
        expect(namespace.retainOnDelete).toBe(true);
        expect(plan.resources.indexOf(config)).toBeLessThan(plan.resources.indexOf(secret));
        expect(plan.resources.indexOf(secret)).toBeLessThan(plan.resources.indexOf(install));
        expect((install.inputs.environment as Record<string, string>).KAPTAIN_INPUT_secret_yaml).toBe("[secret]");
    });

    it("never writes a secret value, and shows Secret keys with redacted values", () => {
        const all = everythingUnder(out);
        for (const secret of SECRET_VALUES) {
            expect(all).not.toContain(secret);
        }
        expect(fs.readFileSync(path.join(out, "manifests/dev.secret.dev.yaml"), "utf8")).toContain(
            'redisPassword: "[secret]"',
        );
    });

    it("writes the exact scripts the Commands carry", () => {
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as Plan;
        const install = plan.resources.find(r => r.name === "geo-install")!.inputs as {
            environment: Record<string, string>;
        };
        expect(fs.readFileSync(path.join(out, "phases/install.create.sh"), "utf8")).toBe(
            install.environment.KAPTAIN_SCRIPT_CREATE,
        );
        expect(fs.readFileSync(path.join(out, "phases/install.delete.sh"), "utf8")).toBe(
            install.environment.KAPTAIN_SCRIPT_DELETE,
        );
    });

    it("reports what changed since the last synth of the stack", () => {
        fs.appendFileSync(path.join(project, "examples/geo-platform/infra/configs/redis/redis.conf"), "# tuned\n");
        const again = synthIn(project, "--stack", "dev");
        expect(again.status).toBe(0);
        expect(again.stdout).toContain("~ command:local:Command geo-install: environment.KAPTAIN_INPUT_configs_redis");
        expect(again.stdout).not.toContain("geo-provision-configs-namespace-secret:");
    });

    it("says that a secret value changed, never what it is", () => {
        const secretFile = path.join(project, "examples/geo-platform/infra/secret.yaml");
        fs.writeFileSync(
            secretFile,
            fs.readFileSync(secretFile, "utf8").replace("example-not-a-real-password", "rotated-password-0006"),
        );
        const again = synthIn(project, "--stack", "dev");
        expect(again.status).toBe(0);
        for (const name of ["geo-config", "geo-install"]) {
            expect(again.stdout).toContain(
                `~ command:local:Command ${name}: environment.KAPTAIN_INPUT_secret_yaml (secret, not shown), ` +
                    "environment.KAPTAIN_SHARED (secret, not shown)\n",
            );
        }
        expect(again.stdout).toContain(
            "~ kubernetes:core/v1:Secret geo-provision-configs-namespace-secret: stringData (secret, not shown)\n",
        );
        const written = [again.stdout, again.stderr, fs.readFileSync(path.join(out, "plan.json"), "utf8")].join("\n");
        expect(written).not.toContain("rotated-password-0006");
        // Nothing else changed: the next synth says so.
        expect(synthIn(project, "--stack", "dev").stdout).toContain("No changes since the last synth.");
    });
});

describe("kaptain synth failures leave no partial output", () => {
    function expectNoOutput(project: string, stack: string) {
        expect(fs.existsSync(path.join(project, "out", stack))).toBe(false);
        const staging = fs.existsSync(path.join(project, "out")) ? fs.readdirSync(path.join(project, "out")) : [];
        expect(staging.filter(f => f.includes("synth-"))).toEqual([]);
    }

    it("requires --stack when there are several stacks", () => {
        const project = exampleProject();
        const r = synthIn(project);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("--stack is required: this project has several stacks (dev, prod)");
    });

    it("rejects an unknown stack, naming the ones there are", () => {
        const project = exampleProject();
        const r = synthIn(project, "--stack", "staging");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("unknown stack 'staging'");
        expect(r.stderr).toContain("(stacks: dev, prod)");
        expectNoOutput(project, "staging");
    });

    it("rejects invalid config with the key's name and what was expected", () => {
        const project = exampleProject(dir => {
            const file = path.join(dir, "Pulumi.dev.yaml");
            fs.writeFileSync(
                file,
                fs
                    .readFileSync(file, "utf8")
                    .replace("concurrency: 4", "concurrency: four")
                    .replace("kaptain:hooks: hooks.sh", "kaptain:hooks: hooks.sh\n  kaptain:namespce: typo"),
            );
        });
        const r = synthIn(project, "--stack", "dev");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('`kaptain:helmfile.concurrency` must be a whole number >= 0, got "four"');
        expect(r.stderr).toContain(
            "`kaptain:namespce` is not a pulumi-kaptain setting (did you mean `kaptain:namespace`?)",
        );
        expectNoOutput(project, "dev");
    });

    it("reports a missing hook file", () => {
        const project = exampleProject(dir => fs.rmSync(path.join(dir, "examples/geo-platform/infra/hooks.sh")));
        const r = synthIn(project, "--stack", "dev");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain('`hooks` names a file that does not exist: "hooks.sh"');
        expectNoOutput(project, "dev");
    });

    it("reports a program that throws, and keeps the previous good output", () => {
        const project = exampleProject();
        expect(synthIn(project, "--stack", "dev").status).toBe(0);
        const before = everythingUnder(path.join(project, "out", "dev"));
        fs.appendFileSync(
            path.join(project, "examples/geo-platform/index.ts"),
            '\nthrow new Error("program exploded");\n',
        );
        const r = synthIn(project, "--stack", "dev");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("program exploded");
        expect(everythingUnder(path.join(project, "out", "dev"))).toBe(before);
    });

    it("a write that fails keeps the previous output whole and says where and why", () => {
        const project = exampleProject();
        expect(synthIn(project, "--stack", "dev").status).toBe(0);
        const before = everythingUnder(path.join(project, "out", "dev"));
        // A valid Kubernetes name (253 characters) makes a manifest file name longer than
        // the file system allows.
        fs.appendFileSync(
            path.join(project, "examples/geo-platform/index.ts"),
            `\nimport * as k8s from "@pulumi/kubernetes";\n` +
                `new k8s.core.v1.ConfigMap("long", { metadata: { name: "${"a".repeat(253)}" } });\n`,
        );
        const r = synthIn(project, "--stack", "dev");
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`kaptain synth: could not write ${path.join(project, "out", "dev")}: ENAMETOOLONG`);
        expect(r.stderr).toContain("the previous output is unchanged");
        expect(r.stderr).not.toMatch(/^\s+at /m);
        expect(everythingUnder(path.join(project, "out", "dev"))).toBe(before);
        expect(fs.readdirSync(path.join(project, "out")).filter(f => f.startsWith(".dev."))).toEqual([]);
    });
});

/** Runs the CLI without waiting, so that several run at once. */
function synthAsync(project: string): Promise<CliRun> {
    return new Promise((resolve, reject) => {
        const child = spawn(
            process.execPath,
            [path.join(REPO_ROOT, "sdk/dev-cli.cjs"), "synth", "--project", project, "--stack", "dev"],
            {
                cwd: REPO_ROOT,
                env: { ...process.env, FORCE_COLOR: "0" },
            },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", status => resolve({ status, stdout, stderr }));
    });
}

describe("kaptain synth runs at once", () => {
    it("each finishes, and out/<stack>/ is one whole plan", async () => {
        const project = exampleProject();
        const out = path.join(project, "out", "dev");
        expect(synthIn(project, "--stack", "dev").status).toBe(0);
        const whole = everythingUnder(out);
        // A large previous output: replacing it takes long enough for the runs to overlap
        // (removed then renamed into place, one of the runs failed with ENOTEMPTY every time).
        for (let i = 0; i < 20000; i++) {
            fs.writeFileSync(path.join(out, "manifests", `stale-${i}.yaml`), "");
        }
        const runs = await Promise.all([1, 2, 3].map(() => synthAsync(project)));
        for (const run of runs) {
            expect(run.stderr).toBe("");
            expect(run.status).toBe(0);
        }
        expect(everythingUnder(out)).toBe(whole);
        expect(fs.readdirSync(path.join(project, "out")).sort()).toEqual([".kaptain-synth-output", "dev"]);
    }, 120_000);

    /** A synth output (marked) holding `text`, at `dir`. */
    function output(dir: string, text: string): string {
        return writeTree(dir, { [SYNTH_OUTPUT_MARKER]: "", "plan.json": text, "manifests/a.yaml": text });
    }
    const whole = (text: string) => ({ [SYNTH_OUTPUT_MARKER]: "", "plan.json": text, "manifests/a.yaml": text });

    it("an output another synth puts in place meanwhile is set aside too: one whole output, nothing left over", () => {
        const root = tempDir("kaptain-out-");
        const target = output(path.join(root, "dev"), "previous");
        const ours = output(path.join(root, ".dev.synth-ours"), "ours");
        let interleaved = false;
        replaceFolder(ours, target, (from, to) => {
            if (from === ours && !interleaved) {
                // The other synth finishes between our setting the previous output aside and our rename.
                interleaved = true;
                output(target, "theirs");
            }
            fs.renameSync(from, to);
        });
        expect(interleaved).toBe(true);
        expect(readTree(target)).toEqual(whole("ours"));
        expect(fs.readdirSync(root)).toEqual(["dev"]);
    });

    it("says so when another synth keeps replacing the output, and leaves one whole output", () => {
        const root = tempDir("kaptain-out-");
        const target = output(path.join(root, "dev"), "previous");
        const ours = output(path.join(root, ".dev.synth-ours"), "ours");
        expect(() =>
            replaceFolder(ours, target, (from, to) => {
                if (from === ours) {
                    output(target, "theirs");
                }
                fs.renameSync(from, to);
            }),
        ).toThrow(`another kaptain synth of this stack kept replacing ${target} (10 attempts)`);
        expect(readTree(target)).toEqual(whole("theirs"));
        expect(fs.readdirSync(root).sort()).toEqual([".dev.synth-ours", "dev"]);
    });

    it("a rename that fails puts the previous output back", () => {
        const root = tempDir("kaptain-out-");
        const target = output(path.join(root, "dev"), "previous");
        const ours = output(path.join(root, ".dev.synth-ours"), "ours");
        expect(() =>
            replaceFolder(ours, target, (from, to) => {
                if (from === ours) {
                    throw Object.assign(new Error("EIO: i/o error, rename"), { code: "EIO" });
                }
                fs.renameSync(from, to);
            }),
        ).toThrow("EIO");
        expect(readTree(target)).toEqual(whole("previous"));
        // The staging folder is the caller's to remove.
        expect(fs.readdirSync(root).sort()).toEqual([".dev.synth-ours", "dev"]);
    });

    it("a folder synth did not write, found in place at the last moment, is put back untouched", () => {
        const root = tempDir("kaptain-out-");
        const target = writeTree(path.join(root, "dev"), { "hooks.sh": "echo mine\n" });
        const ours = output(path.join(root, ".dev.synth-ours"), "ours");
        expect(() => replaceFolder(ours, target)).toThrow(`${target} was not written by kaptain synth`);
        expect(readTree(target)).toEqual({ "hooks.sh": "echo mine\n" });
        expect(fs.readdirSync(root).sort()).toEqual([".dev.synth-ours", "dev"]);
    });
});

describe("kaptain synth where there is no helm", () => {
    it("plans the keys with a stand-in for each value and warns that a deploy needs helm", () => {
        const project = exampleProject();
        // PATH without any helm: the folders of node and bash only.
        const bare = [path.dirname(process.execPath), "/usr/bin", "/bin"]
            .filter(dir => !fs.existsSync(path.join(dir, "helm")))
            .join(path.delimiter);
        const run = kaptain(["synth", "--project", project, "--stack", "dev"], REPO_ROOT, { PATH: bare });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toContain("`helm` was not found on PATH");
        expect(run.stdout).toContain("`pulumi up` and `pulumi preview` need helm");
        // Said once, though the Infrastructure checks its files before ProvisionConfigs reads them.
        expect(run.stdout.split("`helm` was not found on PATH").length).toBe(2);
        const configMap = fs.readFileSync(
            path.join(project, "out", "dev", "manifests", "dev.configmap.dev.yaml"),
            "utf8",
        );
        expect(configMap).toContain('logLevel: "[not rendered: helm not found]"');
    });
});
