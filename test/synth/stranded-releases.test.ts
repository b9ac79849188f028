// Changes that would leave releases in the cluster with nothing left to remove them:
// synth says so before the deploy, naming the releases' namespace and the way out.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { exampleProject, kaptain } from "../support/synth-project";

/** Rewrites the dev stack's config with `edit`. */
function editDevStack(project: string, edit: (config: Record<string, unknown>) => void): void {
    const file = path.join(project, "Pulumi.dev.yaml");
    const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    fs.writeFileSync(file, YAML.stringify(doc));
}

function synth(project: string): string {
    const run = kaptain(["synth", "--project", project, "--stack", "dev"]);
    if (run.status !== 0) {
        throw new Error(`synth failed:\n${run.stderr}`);
    }
    return run.stdout;
}

const infra = (project: string) => path.join(project, "examples", "geo-platform", "infra");
const turnInstallOff = (config: Record<string, unknown>) => {
    (config["kaptain:phases"] as Record<string, boolean>).install = false;
};

describe("a phase turned off in the same change that removes what its delete script reads", () => {
    it("its namespace folder: the delete cannot run, and its releases would stay", () => {
        const project = exampleProject();
        synth(project);
        editDevStack(project, turnInstallOff);
        fs.rmSync(path.join(infra(project), "namespaces", "dev"), { recursive: true });
        const out = synth(project);
        expect(out).toContain(
            "geo-install is deleted, but its delete script cannot run " +
                "`helmfile --environment dev --file ../../helmfile.yaml.gotmpl --selector action=install destroy`: " +
                "the namespace folder examples/geo-platform/infra/namespaces/dev is gone, so the releases it " +
                "deployed stay in namespace dev (`helm list --namespace dev` lists them). Turn the phase off while " +
                "the namespace folder examples/geo-platform/infra/namespaces/dev is still there, and remove it in a " +
                "later change; or uninstall the releases yourself and then `pulumi state delete` the phase",
        );
        expect(out).not.toContain("geo-install is deleted: its delete script runs");
    });

    it("the helmfile it names: renamed, the delete cannot run either", () => {
        const project = exampleProject();
        synth(project);
        editDevStack(project, turnInstallOff);
        fs.renameSync(path.join(infra(project), "helmfile.yaml.gotmpl"), path.join(infra(project), "helmfile.yaml"));
        const out = synth(project);
        expect(out).toContain(
            "geo-install is deleted, but its delete script cannot run " +
                "`helmfile --environment dev --file ../../helmfile.yaml.gotmpl --selector action=install destroy`: " +
                "its helmfile (examples/geo-platform/infra/helmfile.yaml.gotmpl) is gone",
        );
    });
});

describe("a namespace change", () => {
    it("names the phases that move and the namespace whose releases they leave behind", () => {
        const project = exampleProject();
        synth(project);
        editDevStack(project, config => {
            config["kaptain:namespace"] = "prod";
        });
        const out = synth(project);
        expect(out).toContain(
            "geo-config, geo-install move from namespace dev to prod: pulumi up stops at geo-namespace-guard " +
                "before anything deploys, since they would deploy into prod and forget dev, where the releases " +
                "deployed so far stay, no longer managed (`helm list --namespace dev` lists them). To move them, " +
                "first turn these phases off and pulumi up (the delete scripts destroy the releases in dev), then " +
                "change the namespace and turn them on again",
        );
    });

    it("says nothing when the namespace stays", () => {
        const project = exampleProject();
        synth(project);
        editDevStack(project, config => {
            (config["kaptain:helmfile"] as Record<string, unknown>).concurrency = 2;
        });
        expect(synth(project)).not.toContain("WARNING");
    });
});
