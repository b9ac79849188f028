// Setup file of every test file: what the tests made in the temporary folder goes when
// the file is done, passed or failed.
import { afterAll } from "vitest";
import { removeTempDirs } from "./fixture";

afterAll(removeTempDirs);
