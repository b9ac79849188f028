// The example repository's helmfile, read by the real helmfile v1 for each stack, the way
// the phase scripts call it (namespace directory, --environment, --file, KAPTAIN_*).
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, tool, ToolEnvironment, toolEnvironment, toolchain } from "./support/tools";

let env: ToolEnvironment;

beforeAll(() => {
    env = toolEnvironment(toolchain());
}, 40 * 60_000);

afterAll(() => env?.remove());

describe("the example's helmfile.yaml.gotmpl", () => {
    it.each(["dev", "prod"])("lists the %s releases with their kaptain labels", stack => {
        const namespaceDirectory = path.join(REPO_ROOT, "examples/geo-platform/infra/namespaces", stack);
        const listed = JSON.parse(
            tool(env, "bash", [
                "-c",
                'cd "$1" && KAPTAIN_NAMESPACE="$2" KAPTAIN_NAMESPACE_DIRECTORY="$PWD" ' +
                    'helmfile --environment "$2" --file ../../helmfile.yaml.gotmpl list --output json',
                "list",
                namespaceDirectory,
                stack,
            ]),
        ) as Array<{ name: string; namespace: string; labels: string }>;
        expect(listed.map(r => [r.name, r.namespace, /action:(\w+)/.exec(r.labels)?.[1]])).toEqual([
            ["provision-configs", stack, "config"],
            ["redis", stack, "install"],
            ["redis-commander", stack, "install"],
        ]);
    });
});
