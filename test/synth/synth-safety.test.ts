// What synth tells a reviewer before a deploy: warnings, and every change that would
// destroy something in the cluster. And it reads every config shape Pulumi accepts.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { SYNTH_OUTPUT_MARKER } from "../../sdk/fingerprint";
import type { Plan } from "../../sdk/synth/synth";
import { readTree, tempDir } from "../support/fixture";
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
