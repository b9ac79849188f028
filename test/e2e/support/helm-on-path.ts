import * as path from "node:path";
import { toolchainBin } from "../cluster/cluster";

// Inline programs run in the test process, and ProvisionConfigs renders its values with the
// helm on PATH: the toolchain's, as the CLI and the phase scripts get it.
const bin = toolchainBin();
if (!(process.env.PATH ?? "").split(path.delimiter).includes(bin)) {
    process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ""}`;
}
