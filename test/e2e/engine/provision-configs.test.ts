/**
 * Engine scenario 11: `ProvisionConfigs` on its own, through the real engine and the
 * kubernetes provider built from its Go module (no command plugin needed, so this file
 * always runs): `up` creates the Namespace and the three objects, a second `up` changes
 * nothing, a `secret.yaml` edit updates the Secret in place (same UID), `destroy`
 * removes the objects and keeps the Namespace (`retainOnDelete`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineStack } from "./harness";
import { EngineWorld, kubeconfigCredentials, provisionConfigsProgram, startWorld } from "./setup";

const NAMESPACE = "depot";

let world: EngineWorld;
let stack: EngineStack;

interface KubeObject {
    metadata: { uid: string; resourceVersion: string };
    data?: Record<string, string>;
}

function get(kind: string, name: string): KubeObject | undefined {
    try {
        return JSON.parse(
            world.kubectl(world.clusters[0], "get", kind, name, "-n", NAMESPACE, "-o", "json"),
        ) as KubeObject;
    } catch {
        return undefined;
    }
}

function decoded(object: KubeObject | undefined): Record<string, string> {
    return Object.fromEntries(
        Object.entries(object?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
    );
}

beforeAll(async () => {
    world = await startWorld(1);
    stack = await world.engine.stack(
        "provision-configs",
        provisionConfigsProgram(world.repo, NAMESPACE),
        {},
        {
            "e2e:kubeconfig": fs.readFileSync(world.clusters[0].kubeconfig, "utf8"),
        },
    );
}, 40 * 60_000);

afterAll(async () => {
    await world?.stop();
}, 120_000);

describe("ProvisionConfigs through the engine", () => {
    it("up creates the Namespace, the namespace Secret, the ConfigMap and the rclone-config Secret", async () => {
        const run = await stack.up();
        expect(run.summary.create).toBe(7); // stack, provider, component, namespace, 3 objects
        expect(decoded(get("secret", NAMESPACE))).toEqual({
            dbPassword: "e2e-db-password-0001",
            apiToken: "e2e-api-token-0002",
        });
        expect(get("configmap", NAMESPACE)?.data).toEqual({ domain: "shop.example.test", replicas: "2" });
        expect(decoded(get("secret", "rclone-config"))["rclone.conf"]).toContain("type = alias");
    });

    it("a second up changes nothing", async () => {
        const before = get("secret", NAMESPACE)!.metadata.resourceVersion;
        const run = await stack.up();
        expect(run.summary).toEqual({ same: 7 });
        expect(get("secret", NAMESPACE)!.metadata.resourceVersion).toBe(before);
    });

    it("a secret.yaml edit updates the Secret in place, and nothing else", async () => {
        const uid = get("secret", NAMESPACE)!.metadata.uid;
        const file = path.join(world.repo, "secret.yaml");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("e2e-db-password-0001", "e2e-db-password-0003"));
        const preview = await stack.preview();
        expect(preview.summary).toEqual({ same: 6, update: 1 });
        expect(preview.steps["depot-namespace-secret"]).toBe("update");
        await stack.up();
        const secret = get("secret", NAMESPACE)!;
        expect(secret.metadata.uid).toBe(uid);
        expect(decoded(secret).dbPassword).toBe("e2e-db-password-0003");
    });

    it("the state and the CLI's output hold no secret value", async () => {
        const run = await stack.preview();
        const state = await stack.exportedState();
        for (const text of [state, run.output, stack.allOutput]) {
            expect(text).not.toContain("e2e-db-password-0003");
            expect(text).not.toContain("e2e-api-token-0002");
            expect(text).not.toContain("/nonexistent-e2e-remote");
            for (const credential of kubeconfigCredentials(world.clusters[0].kubeconfig)) {
                expect(text).not.toContain(credential);
            }
        }
    });

    it("destroy removes the objects and keeps the Namespace", async () => {
        const run = await stack.destroy();
        expect(run.summary.delete).toBe(7);
        expect(get("secret", NAMESPACE)).toBeUndefined();
        expect(get("configmap", NAMESPACE)).toBeUndefined();
        expect(world.kubectl(world.clusters[0], "get", "namespace", NAMESPACE, "-o", "name").trim()).toBe(
            `namespace/${NAMESPACE}`,
        );
    });
});
