#!/usr/bin/env node
// Launcher committed with the sources so npm can link the command before the first build.
import { main } from '../dist/main.js';

globalThis.process.exitCode = await main(globalThis.process.argv);
