// What synth tells a reviewer before a deploy: warnings, and every change that would
// destroy something in the cluster. And it reads every config shape Pulumi accepts.
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { SYNTH_OUTPUT_MARKER } from "../../sdk/fingerprint";
import type { Plan } from "../../sdk/synth/synth";
import { readTree, tempDir, writeTree } from "../support/fixture";
import { exampleProject, homeWithProdKubeconfig, kaptain } from "../support/synth-project";

type StackConfig = Record<string, unknown>;

/** Rewrites a stack file's config with `edit`. */
function editStack(project: string, stack: string, edit: (config: StackConfig) => void): void {
    const file = path.join(project, `Pulumi.${stack}.yaml`);
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config: StackConfig };
    edit(doc.config);
    fs.writeFileSync(file, YAML.stringify(doc));
}

function synth(project: string, stack = "dev", env: Record<string, string> = {}) {
    const run = kaptain(["synth", "--project", project, "--stack", stack], undefined, env);
    if (run.status !== 0) {
        throw new Error(`synth failed:\n${run.stderr}`);
    }
    return run;
}

describe("encrypted stack config", () => {
    it("accepts kaptain:secret and kaptain:kubeconfig encrypted whole, as `pulumi config set --secret` stores them", () => {
        const project = exampleProject();
        editStack(project, "dev", config => {
            config["kaptain:secret"] = { secure: "v1:c2FsdA==:ZW5jcnlwdGVkIG1hcA==" };
            config["kaptain:kubeconfig"] = { secure: "v1:bm9uY2U=:ZW5jcnlwdGVkIGt1YmVjb25maWc=" };
        });
        synth(project);
        const out = path.join(project, "out", "dev");
        expect(fs.readFileSync(path.join(out, "manifests", "dev.secret.dev.yaml"), "utf8")).toContain(
            'encrypted_in_stack_config: "[secret]"',
        );
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as Plan;
        const provider = plan.resources.find(r => r.name === "geo-kubernetes")!;
        expect(provider.inputs.kubeconfig).toBe("[secret]");
        const install = plan.resources.find(r => r.name === "geo-install")!;
        expect((install.inputs.environment as Record<string, string>).KAPTAIN_KUBECONFIG).toBe("[secret]");
    });
});

describe("warnings", () => {
    it("prints the program's warnings: a namespace without its folder", () => {
        const project = exampleProject();
        editStack(project, "dev", config => {
            config["kaptain:namespace"] = "staging";
        });
        const run = synth(project);
        expect(run.stdout).toContain("WARNING:");
        expect(run.stdout).toContain("namespace 'staging' has no folder namespaces/staging/");
        expect(run.stdout).toContain("Namespaces with a folder: dev, prod");
        const plan = JSON.parse(fs.readFileSync(path.join(project, "out", "dev", "plan.json"), "utf8")) as Plan;
        expect(plan.warnings).toHaveLength(1);
    });

    it("prints a release no phase deploys and a release sent to another namespace, naming the helmfile", () => {
        const project = exampleProject();
        const helmfile = path.join(project, "examples/geo-platform/infra/helmfile.yaml.gotmpl");
        fs.writeFileSync(
            helmfile,
            fs
                .readFileSync(helmfile, "utf8")
                .replace("    labels:\n      action: install\n", "    labels:\n      action: instal\n")
                .replace(
                    "  - name: redis-commander\n",
                    "  - name: metrics\n    chart: bitnami/metrics\n    namespace: monitoring\n" +
                        "    labels:\n      action: config\n  - name: redis-commander\n",
                ),
        );
        const run = synth(project);
        expect(run.stdout).toContain("WARNINGS (2):");
        expect(run.stdout).toContain(
            `releases "redis", "redis-commander" in ${helmfile} are deployed by no phase: the labels action=instal`,
        );
        expect(run.stdout).toContain(
            `release "metrics" in ${helmfile} deploys into namespace "monitoring" (written in the release), ` +
                `not the Infrastructure's namespace "dev"`,
        );
    });

    it("prints none for the example as it is", () => {
        const project = exampleProject();
        expect(synth(project).stdout).not.toContain("WARNING");
        expect(synth(project).stdout).not.toContain("WARNING");
    });
});

describe("changes that destroy something are called out", () => {
    it("a phase turned off: its delete script runs helmfile destroy", () => {
        const project = exampleProject();
        synth(project);
        editStack(project, "dev", config => {
            (config["kaptain:phases"] as Record<string, boolean>).install = false;
        });
        const run = synth(project);
        expect(run.stdout).toContain(
            "geo-install is deleted: its delete script runs " +
                "`helmfile --environment dev --file ../../helmfile.yaml.gotmpl --selector action=install destroy`",
        );
    });

    it("a rename without aliases: new phases sync while the old ones destroy the same releases", () => {
        const project = exampleProject();
        synth(project);
        const program = path.join(project, "examples", "geo-platform", "index.ts");
        fs.writeFileSync(
            program,
            fs.readFileSync(program, "utf8").replace('new Infrastructure("geo"', 'new Infrastructure("geo2"'),
        );
        const run = synth(project);
        expect(run.stdout).toContain("geo-config is deleted: its delete script runs");
        expect(run.stdout).toContain(
            "while geo2-config syncs the same releases (a rename? add `aliases` to keep them)",
        );
        // The retained Namespace is only forgotten: no warning for it.
        expect(run.stdout).not.toContain("Namespace dev and everything");
    });

    it("a provision-configs mode flip: the namespace Secret is deleted", () => {
        const project = exampleProject();
        synth(project);
        editStack(project, "dev", config => {
            config["kaptain:provisionConfigs"] = { enabled: false };
        });
        expect(synth(project).stdout).toContain(
            "geo-provision-configs-namespace-secret is deleted: Secret dev/dev " + "(provision-configs mode changed?",
        );
    });

    it("a Namespace that Pulumi deletes, with everything in it", () => {
        const project = exampleProject();
        editStack(project, "dev", config => {
            config["kaptain:deleteNamespace"] = true;
        });
        synth(project);
        editStack(project, "dev", config => {
            delete config["kaptain:deleteNamespace"];
            config["kaptain:createNamespace"] = false;
        });
        expect(synth(project).stdout).toContain("geo-namespace is deleted: Namespace dev and everything still in it");
    });

    it("plans a stack whose kubeconfig file is not on this machine, warning that a deploy will need it", () => {
        const project = exampleProject();
        const run = synth(project, "prod", { HOME: tempDir("kaptain-empty-home-") });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stdout).toMatch(
            /WARNING.*`kubeconfig` names a file that cannot be read: .*prod\.yaml \(ENOENT\): planned without it, but a deploy will need it/s,
        );
    });

    it("a protected phase: the deploy would stop there", () => {
        const project = exampleProject();
        const env = { HOME: homeWithProdKubeconfig() };
        synth(project, "prod", env);
        editStack(project, "prod", config => {
            (config["kaptain:phases"] as Record<string, boolean>).provision = false;
        });
        expect(synth(project, "prod", env).stdout).toContain(
            "geo-provision would be deleted, but it is protected: pulumi up will stop there until `protect` is lifted",
        );
    });
});

/** The example's program, replaced by `source` (imports resolve as in the example). */
function writeProgram(project: string, source: string): void {
    fs.writeFileSync(path.join(project, "examples", "geo-platform", "index.ts"), source);
}

const PROGRAM_HEAD = [
    'import * as pulumi from "@pulumi/pulumi";',
    'import * as k8s from "@pulumi/kubernetes";',
    'import { Infrastructure, infrastructureArgsFromConfig } from "../../sdk";',
    "const args = infrastructureArgsFromConfig();",
    "void k8s;",
    "",
].join("\n");

describe("a program's error is never hidden: synth fails with it and keeps the previous plan", () => {
    const project = exampleProject();
    const out = path.join(project, "out", "dev");
    const original = fs.readFileSync(path.join(project, "examples", "geo-platform", "index.ts"), "utf8");
    synth(project);
    const good = readTree(out);
    // Each case starts from the good plan, whatever the case before left.
    beforeEach(() => {
        fs.rmSync(out, { recursive: true, force: true });
        writeTree(out, good);
    });

    it.each([
        [
            "a check inside `apply` on a resource's input",
            'const infra = new Infrastructure("geo", args);\n' +
                'new k8s.core.v1.ConfigMap("extra", { data: { a: infra.namespace.apply((): string => { throw new pulumi.ResourceError("`extra.data.a` must not be empty", infra); }) } });',
            "`extra.data.a` must not be empty",
        ],
        [
            "an `apply` that feeds no resource",
            'const infra = new Infrastructure("geo", args);\n' +
                'infra.namespace.apply(() => { throw new Error("`settings.region` is unknown"); });',
            "`settings.region` is unknown",
        ],
        [
            "an exported Output",
            'const infra = new Infrastructure("geo", args);\n' +
                'export const region = infra.namespace.apply((): string => { throw new Error("`region` export failed"); });',
            "`region` export failed",
        ],
        [
            "a rejected promise that nothing awaits",
            'new Infrastructure("geo", args);\nvoid Promise.reject(new Error("`lookup` rejected"));',
            "`lookup` rejected",
        ],
        [
            "an error logged with pulumi.log.error",
            'new Infrastructure("geo", args);\nvoid pulumi.log.error("`quota` is exceeded");',
            "`quota` is exceeded",
        ],
        [
            "a program exported as an async function",
            'export = async () => { new Infrastructure("geo", args); throw new Error("`async program` failed"); };',
            "`async program` failed",
        ],
        [
            "an input that never resolves",
            'new Infrastructure("geo", args);\n' +
                'new k8s.core.v1.ConfigMap("extra", { data: { a: pulumi.output(new Promise<string>(() => undefined)) } });',
            "the program failed:\n  it never finished: an Output or a promise waits for a value that never comes",
        ],
        [
            "a newline in `extraArgs`",
            'new Infrastructure("geo", { ...args, helmfile: { ...args.helmfile, extraArgs: ["--a\\nb"] } });',
            "`helmfile.extraArgs[0]` must not contain a newline",
        ],
        [
            "a blank `binary`",
            'new Infrastructure("geo", { ...args, helmfile: { ...args.helmfile, binary: pulumi.output(" ") } });',
            "`helmfile.binary` must not be empty",
        ],
        [
            "a secret `kubeContext`",
            'new Infrastructure("geo", { ...args, helmfile: { ...args.helmfile, kubeContext: pulumi.secret("prod-admin") } });',
            "`helmfile.kubeContext` holds a secret",
        ],
    ])("%s", (_case, body, message) => {
        writeProgram(project, PROGRAM_HEAD + body + "\n");
        try {
            const run = kaptain(["synth", "--project", project, "--stack", "dev"]);
            expect(run.stderr).toContain(message);
            expect(run.status).toBe(1);
            expect(run.stdout).not.toContain("is deleted");
            expect(readTree(out)).toEqual(good);
            expect(fs.readdirSync(path.dirname(out)).filter(f => f.startsWith(".dev."))).toEqual([]);
            expect(run.stderr).not.toContain("prod-admin");
        } finally {
            writeProgram(project, original);
        }
    });

    it("runs a program exported as an async function, as the Pulumi CLI does", () => {
        writeProgram(
            project,
            PROGRAM_HEAD +
                'export = async () => { const infra = new Infrastructure("geo", args); return { ns: infra.namespace }; };\n',
        );
        try {
            const run = synth(project);
            expect(run.stdout).toContain("No changes since the last synth.");
            expect(readTree(out)).toEqual(good);
        } finally {
            writeProgram(project, original);
        }
    });
});

describe("synth deletes only what it wrote and marked", () => {
    const namespaces = (project: string) => path.join(project, "examples", "geo-platform", "infra", "namespaces");

    it("refuses --out into a folder of the repository, touching nothing", () => {
        const project = exampleProject();
        const before = readTree(namespaces(project));
        const run = kaptain([
            "synth",
            "--project",
            project,
            "--stack",
            "dev",
            "--out",
            "examples/geo-platform/infra/namespaces",
        ]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`${namespaces(project)} holds files that kaptain synth did not write`);
        expect(readTree(namespaces(project))).toEqual(before);
    });

    it("refuses to replace a <stack>/ folder it did not write, even in a folder it marked", () => {
        // The marker an earlier synth wrote into a repository folder it was pointed at.
        const project = exampleProject(dir => fs.writeFileSync(path.join(namespaces(dir), SYNTH_OUTPUT_MARKER), ""));
        const before = readTree(namespaces(project));
        const run = kaptain(
            ["synth", "--project", project, "--stack", "prod", "--out", namespaces(project)],
            undefined,
            {
                HOME: homeWithProdKubeconfig(),
            },
        );
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`${path.join(namespaces(project), "prod")} was not written by kaptain synth`);
        expect(readTree(namespaces(project))).toEqual(before);
    });

    it("writes into a new or empty folder and marks it; refuses a file", () => {
        const project = exampleProject();
        const empty = tempDir("kaptain-out-");
        synthOut(project, empty);
        expect(fs.existsSync(path.join(empty, SYNTH_OUTPUT_MARKER))).toBe(true);
        expect(fs.existsSync(path.join(empty, "dev", SYNTH_OUTPUT_MARKER))).toBe(true);
        expect(fs.existsSync(path.join(empty, "dev", "plan.json"))).toBe(true);
        // Marked: the next synth replaces its own output.
        synthOut(project, empty);

        const file = path.join(tempDir("kaptain-out-"), "plan.txt");
        fs.writeFileSync(file, "mine\n");
        const run = kaptain(["synth", "--project", project, "--stack", "dev", "--out", file]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`kaptain synth: the output folder ${file} is not a folder`);
        expect(fs.readFileSync(file, "utf8")).toBe("mine\n");
    });
});

function synthOut(project: string, out: string) {
    const run = kaptain(["synth", "--project", project, "--stack", "dev", "--out", out]);
    if (run.status !== 0) {
        throw new Error(`synth failed:\n${run.stderr}`);
    }
    return run;
}
