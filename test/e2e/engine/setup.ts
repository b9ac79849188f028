/**
 * What every engine scenario file starts with: the toolchain, the plugins, a private
 * engine, loopback clusters; and what it ends with: all of it stopped and removed.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Cluster, startCluster } from "../cluster/cluster";
import { REPO_ROOT, toolchain } from "../support/tools";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { Engine } from "./harness";
import { pluginBinaries } from "./plugins";

export interface EngineWorld {
    readonly engine: Engine;
    readonly clusters: Cluster[];
    /** A copy of the e2e fixture repository, inside the engine's folder. */
    readonly repo: string;
    /** kubectl / helm against one cluster, with the engine's private helm folders. */
    kubectl(cluster: Cluster, ...args: string[]): string;
    helm(cluster: Cluster, ...args: string[]): string;
    stop(): Promise<void>;
}

/**
 * Starts `clusterCount` clusters and a private engine. With `ambientCluster`, the CLI's
 * (and so the providers' and the scripts') ambient KUBECONFIG is that cluster's: what the
 * program does not send elsewhere lands there. Otherwise it points nowhere.
 */
export async function startWorld(
    clusterCount: number,
    options: { ambientCluster?: number; backendUrl?: string } = {},
): Promise<EngineWorld> {
    const { ambientCluster, backendUrl } = options;
    const tools = toolchain();
    const plugins = pluginBinaries(tools.binDir);
    const clusters: Cluster[] = [];
    let engine: Engine | undefined;
    const stop = async () => {
        await Promise.all(clusters.map(c => c.stop()));
        engine?.remove();
    };
    try {
        clusters.push(
            ...(await Promise.all(Array.from({ length: clusterCount }, () => startCluster({ binDir: tools.binDir })))),
        );
        engine = new Engine({
            binDir: tools.binDir,
            helmPlugins: tools.helmPlugins,
            plugins,
            ambientKubeconfig: ambientCluster !== undefined ? clusters[ambientCluster].kubeconfig : undefined,
            backendUrl,
        });
        await engine.start();
    } catch (err) {
        await stop();
        throw err;
    }
    const started: Engine = engine;
    const repo = path.join(started.root, "repo");
    fs.cpSync(path.join(REPO_ROOT, "test/e2e/fixture"), repo, { recursive: true });
    const run = (bin: string, cluster: Cluster, args: string[]) =>
        execFileSync(path.join(tools.binDir, bin), ["--kubeconfig", cluster.kubeconfig, ...args], {
            env: { ...process.env, ...engine.env },
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
        });
    return {
        engine: started,
        clusters,
        repo,
        kubectl: (cluster, ...args) => run("kubectl", cluster, args),
        helm: (cluster, ...args) => run("helm", cluster, args),
        stop,
    };
}

/**
 * A program of one `ProvisionConfigs` on the cluster of the `e2e:kubeconfig` secret: the
 * Namespace, the namespace Secret (secret.yaml), the ConfigMap and the rclone-config
 * Secret. It needs the kubernetes plugin only.
 */
export function provisionConfigsProgram(repo: string, namespace: string): PulumiFn {
    return async () => {
        const k8s = await import("@pulumi/kubernetes");
        const pulumi = await import("@pulumi/pulumi");
        const { ProvisionConfigs } = await import("../../../sdk");
        const config = new pulumi.Config("e2e");
        // As the README asks of a provider passed in: Secrets and ConfigMaps updated in
        // place, never deleted and re-created (the provider's default for a data change).
        const provider = new k8s.Provider("cluster", {
            kubeconfig: config.requireSecret("kubeconfig"),
            enableSecretMutable: true,
            enableConfigMapMutable: true,
        });
        new ProvisionConfigs(
            namespace,
            {
                namespace,
                createNamespace: true,
                workingDirectory: repo,
                secretFile: "secret.yaml",
                configKeysFile: "configs/provision-configs/values.yaml",
                rcloneConfigFile: "namespaces/shop/rclone.conf",
            },
            { provider },
        );
    };
}

/**
 * The credentials of a test cluster's kubeconfig, as text that must never show: the
 * client key and certificate as written (base64) and the key's first PEM line decoded.
 */
export function kubeconfigCredentials(file: string): string[] {
    const config = JSON.parse(fs.readFileSync(file, "utf8")) as {
        users: { user: { "client-key-data": string; "client-certificate-data": string } }[];
    };
    const { "client-key-data": key, "client-certificate-data": cert } = config.users[0].user;
    const pemLine = Buffer.from(key, "base64").toString("utf8").split("\n")[1];
    return [key, cert, pemLine];
}
