import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { isOfflinePlan } from "./offline";
import { NotRegularFileError, notRegularFileProblem, readRegularFile } from "./regular-file";

/**
 * The `kubeconfig` argument is either the kubeconfig's content (for example a cluster
 * resource's output) or a path. Content has several lines, or starts like YAML's
 * `apiVersion:` or JSON's `{`. The phase scripts apply the same rule (helpers.sh,
 * `kaptain_kubeconfig`); a test keeps the two in step.
 */
export function isKubeconfigContent(value: string): boolean {
    return value.includes("\n") || value.startsWith("apiVersion:") || value.startsWith("{");
}

/**
 * The value of `KAPTAIN_KUBECONFIG` that says "the content is on standard input". Content
 * travels as the Command's `stdin`, never in its environment: Linux caps one environment
 * string at 128 KiB (MAX_ARG_STRLEN), a kubeconfig of some 25 clusters is larger, and
 * `exec` would fail with "Argument list too long" after earlier resources were deployed.
 */
export const KUBECONFIG_ON_STDIN = "-";

/** How a phase script receives the kubeconfig: `KAPTAIN_KUBECONFIG`, and the Command's `stdin`. */
export interface ScriptKubeconfig {
    /** A path, or {@link KUBECONFIG_ON_STDIN}. */
    readonly variable: string;
    /** The content when it is the content, else empty (the provider then gives no stdin). */
    readonly stdin: string;
}

/**
 * Content goes to the script's standard input. A relative path is given relative to the
 * program's directory, but the script resolves it from the namespace directory: rebase it,
 * keeping it relative so that two clones of the repository give the same inputs.
 */
export function kubeconfigForScript(
    value: string,
    programDirectory: string,
    namespaceDirectory: string,
): ScriptKubeconfig {
    if (isKubeconfigContent(value)) {
        return { variable: KUBECONFIG_ON_STDIN, stdin: value };
    }
    // helmfile and kubectl would hang reading a FIFO: say so now, not at deploy time.
    const problem = notRegularFileProblem(kubeconfigFile(value, programDirectory));
    if (problem !== undefined) {
        throw new Error(`\`kubeconfig\`: ${problem}`);
    }
    if (path.isAbsolute(value) || value.startsWith("~")) {
        return { variable: value, stdin: "" };
    }
    const relative = path.relative(namespaceDirectory, path.resolve(programDirectory, value)) || ".";
    // A file named `-` is a file, not the standard input.
    return { variable: relative === KUBECONFIG_ON_STDIN ? `./${relative}` : relative, stdin: "" };
}

/**
 * The kubeconfig's content, read the way the phase script reads it: content as is, `~/`
 * from the home directory, a relative path from the program's directory. Throws an
 * error naming `kubeconfig` when the file cannot be read.
 */
export function readKubeconfig(value: string, programDirectory: string): string {
    if (isKubeconfigContent(value)) {
        return value;
    }
    const file = kubeconfigFile(value, programDirectory);
    try {
        return readRegularFile(file, "utf8");
    } catch (err) {
        if (err instanceof NotRegularFileError) {
            throw new Error(`\`kubeconfig\`: ${err.message}`, { cause: err });
        }
        // Something long or with spaces is more likely content than a path: never print it.
        const shown = value.length <= 200 && !/\s/.test(value) ? file : "(the value is not shown: it may be content)";
        throw new Error(
            `\`kubeconfig\` names a file that cannot be read: ${shown} ` +
                `(${(err as NodeJS.ErrnoException).code ?? String(err)})`,
            { cause: err },
        );
    }
}

/** The file a kubeconfig path names: `~/` from the home directory, relative from the program's directory. */
function kubeconfigFile(value: string, programDirectory: string): string {
    return value.startsWith("~/") ? path.join(os.homedir(), value.slice(2)) : path.resolve(programDirectory, value);
}

/** The kubeconfig an offline plan uses when the real one cannot be read. */
const OFFLINE_STAND_IN = "apiVersion: v1\nkind: Config\n# not read: kaptain synth plans offline\n";

/** Provider settings that update Secrets and ConfigMaps in place, as helm does. */
export const MUTABLE_CONFIG_OBJECTS = { enableSecretMutable: true, enableConfigMapMutable: true } as const;

/** The `clusterIdentifier` of every provider pulumi-kaptain builds. */
export const CLUSTER_IDENTIFIER = "pulumi-kaptain";

export interface ClusterIdentity {
    /** The kubeconfig argument: content or a path. */
    readonly kubeconfig?: pulumi.Input<string>;
    /** The kubeconfig context (`helmfile.kubeContext`). */
    readonly context?: pulumi.Input<string>;
}

/**
 * The Kubernetes provider of a component's native objects, built from the same
 * kubeconfig and context as its phase scripts so that both reach one cluster. Returns
 * undefined when the component should use the provider it inherits: the user passed
 * one (it wins), or neither a kubeconfig nor a context was given (then objects and
 * scripts both use the ambient kubeconfig).
 */
export function clusterProvider(
    name: string,
    parent: pulumi.Resource,
    identity: ClusterIdentity,
    programDirectory: string,
): k8s.Provider | undefined {
    if (parent.getProvider("kubernetes::Provider") !== undefined) {
        return undefined;
    }
    if (identity.kubeconfig === undefined && identity.context === undefined) {
        return undefined;
    }
    const kubeconfig =
        identity.kubeconfig === undefined
            ? undefined
            : pulumi.secret(
                  pulumi.output(identity.kubeconfig).apply(value => {
                      try {
                          return readKubeconfig(value, programDirectory);
                      } catch (err) {
                          if (!isOfflinePlan()) {
                              throw new pulumi.ResourceError((err as Error).message, parent);
                          }
                          // A plan deploys nothing: the file is on the deploying machine.
                          void pulumi.log.warn(
                              `${(err as Error).message}: planned without it, but a deploy will need it`,
                              parent,
                          );
                          return OFFLINE_STAND_IN;
                      }
                  }),
              );
    return new k8s.Provider(
        `${name}-kubernetes`,
        {
            // A stable identity: a rotated CA or a changed server address must not replace
            // the provider, which would replace (delete and re-create) every object on it.
            // Not the component's name either: a rename with `aliases` is the same cluster.
            clusterIdentifier: CLUSTER_IDENTIFIER,
            // The provider's default replaces a Secret or ConfigMap whose data changed, and a
            // named object is deleted before it is re-created: a secret.yaml edit would leave
            // the namespace without its Secret for a moment. kaptain's chart patches it in place.
            ...MUTABLE_CONFIG_OBJECTS,
            ...(kubeconfig !== undefined ? { kubeconfig } : {}),
            ...(identity.context !== undefined ? { context: identity.context } : {}),
        },
        { parent },
    );
}

/**
 * Which cluster a kubeconfig and context reach, for a message that says what could not be
 * reached: `context "prod" (server https://10.0.0.1:6443)`. Only names and the server's
 * address, never credentials; `undefined` content is the ambient kubeconfig.
 */
export function describeClusterTarget(content: string | undefined, context: string | undefined): string {
    if (content === undefined) {
        return context !== undefined
            ? `context ${JSON.stringify(context)} of the ambient kubeconfig`
            : "the ambient kubeconfig's current context";
    }
    let config: KubeconfigShape = {};
    try {
        const parsed = YAML.parse(content) as unknown;
        config = typeof parsed === "object" && parsed !== null ? (parsed as KubeconfigShape) : {};
    } catch {
        // Unreadable here: helmfile said what it thought of it; name what we know.
    }
    const name = context ?? config["current-context"];
    if (typeof name !== "string" || name === "") {
        return "the kubeconfig's current context (none is set)";
    }
    const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
    const cluster = list<KubeconfigContext>(config.contexts).find(c => c?.name === name)?.context?.cluster;
    const server = list<KubeconfigCluster>(config.clusters).find(c => c?.name === cluster)?.cluster?.server;
    return (
        `context ${JSON.stringify(name)}` + (typeof server === "string" ? ` (server ${withoutUserInfo(server)})` : "")
    );
}

/** A server URL without the user and password it may carry (`https://admin:pw@host`). */
function withoutUserInfo(server: string): string {
    try {
        const url = new URL(server);
        if (url.username === "" && url.password === "") {
            return server;
        }
        url.username = "";
        url.password = "";
        return url.toString().replace(/\/$/, server.endsWith("/") ? "/" : "");
    } catch {
        return server.replace(/\/\/[^/@]*@/, "//");
    }
}

type KubeconfigContext = { name?: unknown; context?: { cluster?: unknown } } | null;
type KubeconfigCluster = { name?: unknown; cluster?: { server?: unknown } } | null;

interface KubeconfigShape {
    readonly "current-context"?: unknown;
    readonly contexts?: unknown;
    readonly clusters?: unknown;
}
