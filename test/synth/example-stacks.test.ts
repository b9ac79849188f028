import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Plan, PlanResource } from "../../sdk/synth/synth";
import { runCaptured } from "../support/run-script";
import { CapturedCommand } from "../support/program";
import { exampleProject, homeWithProdKubeconfig, kaptain } from "../support/synth-project";
import { tempDir } from "../support/fixture";

/**
 * The example program under the mock engine for both stacks: the plans must differ
 * exactly where Pulumi.dev.yaml and Pulumi.prod.yaml differ.
 */
let project: string;
const plans: Record<string, Plan> = {};

beforeAll(() => {
    project = exampleProject();
    const home = homeWithProdKubeconfig();
    for (const stack of ["dev", "prod"]) {
        const r = kaptain(["synth", "--project", project, "--stack", stack], undefined, { HOME: home });
        if (r.status !== 0) throw new Error(r.stderr);
        plans[stack] = JSON.parse(fs.readFileSync(path.join(project, "out", stack, "plan.json"), "utf8")) as Plan;
    }
});

/** Resources by name, with their stack-specific metadata names made comparable. */
function byName(plan: Plan): Map<string, PlanResource> {
    return new Map(plan.resources.map(r => [r.name, r]));
}

function changed(a: unknown, b: unknown, prefix = ""): string[] {
    const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (obj(a) && obj(b)) {
        return [...new Set([...Object.keys(a), ...Object.keys(b)])]
            .sort()
            .flatMap(k => changed(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

describe("dev and prod plans", () => {
    it("have the resources their configs ask for: a Namespace in dev, a provision phase in prod", () => {
        const dev = [...byName(plans.dev).keys()];
        const prod = [...byName(plans.prod).keys()];
        expect(dev.filter(n => !prod.includes(n))).toEqual(["geo-namespace"]);
        expect(prod.filter(n => !dev.includes(n))).toEqual(["geo-kubernetes", "geo-provision"]);
    });

    it("put prod's objects on prod's cluster and protect prod's phases", () => {
        const provider = byName(plans.prod).get("geo-kubernetes")!;
        expect(provider.inputs.kubeconfig).toBe("[secret]");
        expect(provider.inputs.context).toBe("prod");
        const objects = plans.prod.resources.filter(r => r.type.startsWith("kubernetes:"));
        expect(objects.length).toBe(3);
        for (const r of objects) {
            expect(r.provider).toBe(`${provider.urn}::geo-kubernetes-id`);
        }
        for (const r of plans.prod.resources.filter(x => x.type === "command:local:Command")) {
            expect(r.protect).toBe(true);
        }
        for (const r of plans.dev.resources) {
            expect(r.provider).toBeUndefined();
            expect(r.protect).toBeUndefined();
        }
    });

    it("differ in the install phase only by namespace, environment, concurrency, context, kubeconfig and that namespace's files", () => {
        const dev = byName(plans.dev).get("geo-install")!;
        const prod = byName(plans.prod).get("geo-install")!;
        // Both run from the repository (`dir`), each script moving to its namespace folder.
        expect(changed(dev.inputs, prod.inputs)).toEqual([
            "environment.KAPTAIN_INPUT_namespaces_dev_configs_redis_commander",
            "environment.KAPTAIN_INPUT_namespaces_dev_provision_configs_Chart_yaml",
            "environment.KAPTAIN_INPUT_namespaces_dev_provision_configs_templates",
            "environment.KAPTAIN_INPUT_namespaces_dev_rclone_conf",
            "environment.KAPTAIN_INPUT_namespaces_prod_configs_provision_configs",
            "environment.KAPTAIN_INPUT_namespaces_prod_configs_redis",
            "environment.KAPTAIN_INPUT_namespaces_prod_provision_configs_Chart_yaml",
            "environment.KAPTAIN_INPUT_namespaces_prod_provision_configs_templates",
            "environment.KAPTAIN_INPUT_namespaces_prod_rclone_conf",
            "environment.KAPTAIN_KUBECONFIG",
            "environment.KAPTAIN_SCRIPT_CREATE",
            "environment.KAPTAIN_SCRIPT_DELETE",
            // The kubeconfig's content, when it is content (prod's is a path: empty).
            "stdin",
        ]);
        const script = (r: typeof dev) => (r.inputs.environment as Record<string, string>).KAPTAIN_SCRIPT_CREATE;
        const devLines = script(dev).split("\n");
        const prodLines = script(prod).split("\n");
        expect(prodLines).toHaveLength(devLines.length);
        expect(prodLines.filter((line, i) => line !== devLines[i])).toEqual([
            "# pulumi-kaptain: install (install phase, create/update) of namespace prod",
            '#   7. helmfile --environment prod --file ../../helmfile.yaml.gotmpl --kube-context prod "${KAPTAIN_SELECTORS[@]}" apply --concurrency 2 --skip-needs --suppress-secrets --hide-notes',
            "kaptain_init install prod ./namespaces/prod",
            'helmfile --environment prod --file ../../helmfile.yaml.gotmpl --kube-context prod "${KAPTAIN_SELECTORS[@]}" apply --concurrency 2 --skip-needs --suppress-secrets --hide-notes || exit',
        ]);
        expect(prod.inputs.dir).toBe("./examples/geo-platform/infra");
    });

    it("take configKeys from each namespace's values, and the same secret.yaml", () => {
        const cm = (plan: Plan) =>
            plan.resources.find(r => r.name === "geo-provision-configs-namespace-configmap")!.inputs;
        expect(cm(plans.dev).data).toEqual({ domain: "geo.example.test", logLevel: "info", replicas: "1" });
        expect(cm(plans.prod).data).toEqual({ domain: "geo.example.test", logLevel: "warn", replicas: "3" });
        expect((cm(plans.prod).metadata as { namespace: string }).namespace).toBe("prod");
    });
});

describe("the synthesised scripts run for real", () => {
    it("install.create.sh embeds the example's configs and packs redis's for rclone", () => {
        const out = path.join(project, "out", "dev");
        const plan = plans.dev.resources.find(r => r.name === "geo-install")!.inputs as unknown as CapturedCommand;
        const script = fs.readFileSync(path.join(out, "phases", "install.create.sh"), "utf8");
        const record = tempDir();
        const remote = tempDir();
        const r = runCaptured(
            { ...plan, create: script, environment: { ...plan.environment, KAPTAIN_KUBECONFIG: "apiVersion: v1\n" } },
            "create",
            {
                programDirectory: project,
                env: { HELMFILE_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` },
            },
        );
        expect(r.stderr).not.toContain("error");
        expect(r.status).toBe(0);
        const embedded = path.join(record, "call-1", "kaptain", "redis-commander");
        expect(fs.readdirSync(embedded).sort()).toEqual(["connections.json", "ui.json"]);
        expect(fs.readFileSync(path.join(embedded, "ui.json"), "utf8")).toContain('"dark"');
        expect(fs.existsSync(path.join(remote, "dev", "redis-config.tar.gz"))).toBe(true);
        expect(fs.readFileSync(path.join(record, "call-1", "argv"), "utf8").split("\n")).toContain(
            "../../helmfile.yaml.gotmpl",
        );
    });
});
