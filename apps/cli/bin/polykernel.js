#!/usr/bin/env node
// Launcher committed with the sources so npm can link the command before the first build.
import '../dist/main.js';
