#!/usr/bin/env node
console.log('hello from gmr bin');
