import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { Engine, RegisteredResource } from "../../sdk/synth/engine";
import { tempDir } from "../support/fixture";
import { HELM_BINARY } from "../support/helm";
import { runProgram } from "../support/program";

/**
 * Renders the seed's provision-configs chart with a real `helm template` and checks that
 * ProvisionConfigs registers the same objects from the same files.
 */
const FIXTURES = path.resolve(__dirname, "../fixtures");
const NAMESPACE = "geo-dev";
const files = {
    secret: path.join(FIXTURES, "parity-secret.yaml"),
    values: path.join(FIXTURES, "parity-values.yaml"),
    rclone: path.join(FIXTURES, "parity-rclone.conf"),
};

type Manifest = {
    kind: string;
    type?: string;
    metadata: { name: string };
    data?: Record<string, unknown>;
    stringData?: Record<string, unknown>;
};
let rendered: Manifest[];
let probe: Record<string, string>;
let engine: Engine;

beforeAll(async () => {
    const chart = path.join(tempDir(), "provision-configs");
    fs.cpSync(path.join(FIXTURES, "provision-configs-chart"), chart, { recursive: true });
    // What kaptain's make-config step does before helm runs.
    fs.mkdirSync(path.join(chart, ".kaptain"));
    fs.copyFileSync(files.rclone, path.join(chart, ".kaptain", "rclone.conf"));
    const out = execFileSync(
        HELM_BINARY,
        ["template", "provision-configs", chart, "--namespace", NAMESPACE, "-f", files.secret, "-f", files.values],
        { encoding: "utf8" },
    );
    // Helm's YAML is 1.1, as is the reading of values on both sides.
    const docs = YAML.parseAllDocuments(out, { version: "1.1" })
        .map(d => d.toJS() as Manifest)
        .filter(Boolean);
    probe = docs.find(d => d.metadata.name === "toyaml-probe")!.data as Record<string, string>;
    rendered = docs.filter(d => d.metadata.name !== "toyaml-probe");

    engine = await runProgram(async () => {
        const { ProvisionConfigs } = await import("../../sdk");
        new ProvisionConfigs("pc", {
            namespace: NAMESPACE,
            secretFile: files.secret,
            configKeysFile: files.values,
            rcloneConfigFile: files.rclone,
        });
    });
});

function registered(kind: string, name: string): RegisteredResource {
    const found = engine.resources.find(
        r => r.type === `kubernetes:core/v1:${kind}` && (r.inputs.metadata as { name: string }).name === name,
    );
    if (!found) throw new Error(`no ${kind} ${name} registered`);
    return found;
}

/** A rendered value as a Secret/ConfigMap string: a string as is, else what toYaml printed. */
function expected(prefix: string, key: string, value: unknown): string {
    return typeof value === "string" ? value : probe[`${prefix}.${key}`];
}

describe("parity with helm template", () => {
    it("renders the three objects of the seed chart", () => {
        expect(rendered.map(m => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
            "ConfigMap/geo-dev",
            "Secret/geo-dev",
            "Secret/rclone-config",
        ]);
    });

    it("the namespace Secret matches: kind, name, namespace, type and every key and value", () => {
        const chart = rendered.find(m => m.kind === "Secret" && m.metadata.name === NAMESPACE)!;
        const mine = registered("Secret", NAMESPACE).inputs as Manifest & { metadata: { namespace: string } };
        expect(mine.metadata.namespace).toBe(NAMESPACE);
        expect(mine.type).toBe(chart.type);
        expect(Object.keys(mine.stringData!).sort()).toEqual(Object.keys(chart.stringData!).sort());
        for (const [key, value] of Object.entries(chart.stringData!)) {
            expect(mine.stringData![key], key).toBe(expected("secret", key, value));
        }
    });

    it("the namespace ConfigMap matches, nested and non-string values included", () => {
        const chart = rendered.find(m => m.kind === "ConfigMap")!;
        const mine = registered("ConfigMap", NAMESPACE).inputs as Manifest & { metadata: { namespace: string } };
        expect(mine.metadata.namespace).toBe(NAMESPACE);
        expect(Object.keys(mine.data!).sort()).toEqual(Object.keys(chart.data!).sort());
        for (const [key, value] of Object.entries(chart.data!)) {
            expect(mine.data![key], key).toBe(expected("configKeys", key, value));
        }
        // Spot checks that the rule is the one documented.
        expect(mine.data!.replicas).toBe("3");
        expect(mine.data!.debug).toBe("true");
        expect(mine.data!.features).toBe("layers:\n- roads\n- rivers\ntiles: true");
    });

    it("the rclone-config Secret carries the multi-line rclone.conf exactly", () => {
        const chart = rendered.find(m => m.metadata.name === "rclone-config")!;
        const mine = registered("Secret", "rclone-config").inputs as Manifest;
        expect(mine.type).toBe(chart.type);
        expect(mine.stringData).toEqual(chart.stringData);
        expect(mine.stringData!["rclone.conf"]).toBe(fs.readFileSync(files.rclone, "utf8"));
    });
});
