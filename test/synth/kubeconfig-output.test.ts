// The kubeconfig in synth's output: its content is the phases' stdin, and neither the
// plan nor a phase's .env file shows it.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import * as YAML from "yaml";
import type { Plan } from "../../sdk/synth/synth";
import { exampleProject, kaptain } from "../support/synth-project";

describe("a kubeconfig given as content", () => {
    it("is redacted in plan.json (the phases' stdin and KAPTAIN_KUBECONFIG) and in the .env files", () => {
        const content = "apiVersion: v1\nkind: Config\n# synth-kubeconfig-token-0006\n";
        const project = exampleProject(dir => {
            const file = path.join(dir, "Pulumi.dev.yaml");
            const doc = YAML.parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
            doc.config["kaptain:kubeconfig"] = content;
            fs.writeFileSync(file, YAML.stringify(doc));
        });
        const run = kaptain(["synth", "--project", project, "--stack", "dev"]);
        expect(run.status, run.stderr).toBe(0);
        const out = path.join(project, "out", "dev");
        const plan = JSON.parse(fs.readFileSync(path.join(out, "plan.json"), "utf8")) as Plan;
        for (const name of ["geo-namespace-guard", "geo-config", "geo-install"]) {
            const inputs = plan.resources.find(r => r.name === name)!.inputs;
            expect(inputs.stdin, name).toBe("[secret]");
            expect((inputs.environment as Record<string, string>).KAPTAIN_KUBECONFIG, name).toBe("[secret]");
        }
        const env = fs.readFileSync(path.join(out, "phases", "install.env"), "utf8");
        expect(env).toContain("KAPTAIN_KUBECONFIG='[secret]'");
        const written = fs
            .readdirSync(out, { recursive: true, withFileTypes: true })
            .filter(e => e.isFile())
            .map(e => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"));
        const everything = [run.stdout, run.stderr, ...written].join("\n");
        expect(everything).not.toContain("synth-kubeconfig-token-0006");
    });
});
