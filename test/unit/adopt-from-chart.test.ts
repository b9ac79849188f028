// `provisionConfigs.adoptFromChart`: the component takes over the objects the
// provision-configs chart of a kaptain deploy renders, and marks them for helm to keep.
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveInfrastructure } from "../../sdk/infrastructure-resolve";
import { copyFixture, tempDir } from "../support/fixture";
import { runInfrastructure } from "../support/program";

const ADOPTED = { "helm.sh/resource-policy": "keep", "pulumi.com/patchForce": "true" };

describe("provisionConfigs.adoptFromChart", () => {
    const chartRepo = copyFixture(path.join(tempDir(), "chart-repo"));

    it("creates the objects next to the chart release that still renders them", () => {
        const resolved = resolveInfrastructure(
            { namespace: "dev", workingDirectory: chartRepo, provisionConfigs: { adoptFromChart: true } },
            chartRepo,
        );
        expect(resolved.provisionConfigs).toMatchObject({ secretFile: "secret.yaml", adoptFromChart: true });
    });

    it("marks every object for helm to keep and for the provider to take helm's fields over", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: chartRepo,
            provisionConfigs: { adoptFromChart: true },
        });
        const objects = engine.resources.filter(r => r.type.startsWith("kubernetes:core/v1:") && r.custom);
        expect(objects.map(o => `${o.type} ${o.name}`).sort()).toEqual([
            "kubernetes:core/v1:Secret geo-provision-configs-namespace-secret",
            "kubernetes:core/v1:Secret geo-provision-configs-rclone-config",
        ]);
        for (const object of objects) {
            expect((object.inputs.metadata as { annotations?: unknown }).annotations, object.name).toEqual(ADOPTED);
        }
    });

    it("leaves objects made for a repository without a chart as the chart would render them: no annotation", async () => {
        const engine = await runInfrastructure({
            namespace: "dev",
            workingDirectory: chartRepo,
            provisionConfigs: { allowChartRelease: true },
        });
        const secret = engine.resources.find(r => r.name === "geo-provision-configs-namespace-secret")!;
        expect((secret.inputs.metadata as { annotations?: unknown }).annotations).toBeUndefined();
    });
});
