import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Engine, RegisteredResource } from "../../sdk/synth/engine";
import { tempDir } from "../support/fixture";
import { expectedData, helmReadings, HelmReading, helmTemplate, parityChart } from "../support/helm-parity";
import { runProgram } from "../support/program";

/**
 * Renders the seed's provision-configs chart with a real `helm template -f` and checks that
 * ProvisionConfigs registers the same objects from the same files. Helm's output is read as
 * JSON through the probe of test/support/helm-parity.ts, never with a YAML parser of ours.
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
    metadata: { name: string; namespace?: string };
    data?: Record<string, string>;
    stringData?: Record<string, string>;
};
let output: string;
let helm: HelmReading;
let engine: Engine;

beforeAll(async () => {
    const chart = parityChart(tempDir());
    // What kaptain's make-config step does before helm runs.
    fs.mkdirSync(path.join(chart, ".kaptain"));
    fs.copyFileSync(files.rclone, path.join(chart, ".kaptain", "rclone.conf"));
    output = helmTemplate(chart, NAMESPACE, [files.secret, files.values]);
    helm = helmReadings(output).get("release")!;

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

describe("parity with helm template", () => {
    it("renders the three objects of the seed chart", () => {
        for (const template of ["namespace-secret", "namespace-configmap", "rclone-config-secret"]) {
            expect(output).toContain(`# Source: provision-configs/templates/${template}.yaml`);
        }
        expect([helm.secret, helm.configMap, helm.rcloneConfig!].map(m => `${m.kind}/${m.metadata.name}`)).toEqual([
            "Secret/geo-dev",
            "ConfigMap/geo-dev",
            "Secret/rclone-config",
        ]);
    });

    it("the namespace Secret matches: kind, name, namespace, type and every key and value", () => {
        const mine = registered("Secret", NAMESPACE).inputs as Manifest;
        expect(mine.metadata.namespace).toBe(NAMESPACE);
        expect(mine.type).toBe(helm.secret.type);
        expect(mine.stringData).toEqual(expectedData(helm, "Secret"));
    });

    it("the namespace ConfigMap matches, nested and non-string values included", () => {
        const mine = registered("ConfigMap", NAMESPACE).inputs as Manifest;
        expect(mine.metadata.namespace).toBe(NAMESPACE);
        expect(mine.data).toEqual(expectedData(helm, "ConfigMap"));
        // Spot checks that the rule is the one documented.
        expect(mine.data!.replicas).toBe("3");
        expect(mine.data!.debug).toBe("true");
        expect(mine.data!.features).toBe("layers:\n- roads\n- rivers\ntiles: true");
    });

    it("the rclone-config Secret carries the multi-line rclone.conf exactly", () => {
        const chart = helm.rcloneConfig!;
        const mine = registered("Secret", "rclone-config").inputs as Manifest;
        expect(mine.type).toBe(chart.type);
        expect(mine.stringData).toEqual(chart.stringData);
        expect(mine.stringData!["rclone.conf"]).toBe(fs.readFileSync(files.rclone, "utf8"));
    });
});
