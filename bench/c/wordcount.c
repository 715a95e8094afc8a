/*
 * bench/c/wordcount.c: the 1-core C reference for bench/wordcount.ts. Counts words as runs of
 * [A-Za-z0-9_'] lower-cased (what gmr's wordcount counts on ASCII text), reading 1 MiB at a time,
 * FNV-1a 32-bit over the lower-cased bytes, open addressing with linear probing, keys in one
 * arena. Prints word<TAB>count per distinct word, in table order. Bench-only: built with `cc -O2`
 * when the bench runs, not part of gmr or of CI.
 *
 *   cc -O2 -o wordcount bench/c/wordcount.c && ./wordcount FILE
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_SIZE (1 << 20)
#define MAX_WORD 65536

struct entry { uint32_t hash, start, length; uint64_t count; };

static unsigned char fold[256];
static struct entry *slots;
static uint32_t mask, size;
static unsigned char *arena;
static size_t arena_used, arena_cap;

static void grow(void) {
  uint32_t old_cap = mask + 1, cap = old_cap * 2;
  struct entry *old = slots;
  slots = calloc(cap, sizeof *slots);
  if (!slots) { perror("calloc"); exit(1); }
  mask = cap - 1;
  for (uint32_t i = 0; i < old_cap; i++) {
    if (old[i].length == 0) continue;
    uint32_t s = old[i].hash & mask;
    while (slots[s].length != 0) s = (s + 1) & mask;
    slots[s] = old[i];
  }
  free(old);
}

static void add(const unsigned char *word, uint32_t length, uint32_t hash) {
  uint32_t s = hash & mask;
  for (;;) {
    struct entry *e = &slots[s];
    if (e->length == 0) break;
    if (e->hash == hash && e->length == length && memcmp(arena + e->start, word, length) == 0) { e->count++; return; }
    s = (s + 1) & mask;
  }
  if (arena_used + length > arena_cap) {
    while (arena_used + length > arena_cap) arena_cap *= 2;
    arena = realloc(arena, arena_cap);
    if (!arena) { perror("realloc"); exit(1); }
  }
  memcpy(arena + arena_used, word, length);
  slots[s] = (struct entry){ hash, (uint32_t)arena_used, length, 1 };
  arena_used += length;
  if (++size * 2 > mask + 1) grow();
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 2; }
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0) { perror(argv[1]); return 1; }
  for (int c = 0; c < 256; c++) fold[c] = 0;
  for (int c = '0'; c <= '9'; c++) fold[c] = c;
  for (int c = 'a'; c <= 'z'; c++) fold[c] = c;
  for (int c = 'A'; c <= 'Z'; c++) fold[c] = c | 0x20;
  fold['_'] = '_';
  fold['\''] = '\'';
  mask = (1 << 16) - 1;
  slots = calloc(mask + 1, sizeof *slots);
  arena_cap = 1 << 20;
  arena = malloc(arena_cap);
  unsigned char *buf = malloc(READ_SIZE);
  unsigned char word[MAX_WORD];
  uint32_t length = 0, hash = 2166136261u;
  ssize_t n;
  while ((n = read(fd, buf, READ_SIZE)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      unsigned char f = fold[buf[i]];
      if (f) {
        if (length < MAX_WORD) word[length++] = f;
        hash = (hash ^ f) * 16777619u;
      } else if (length) {
        add(word, length, hash);
        length = 0;
        hash = 2166136261u;
      }
    }
  }
  if (n < 0) { perror("read"); return 1; }
  if (length) add(word, length, hash);
  for (uint32_t i = 0; i <= mask; i++) {
    if (slots[i].length == 0) continue;
    fwrite(arena + slots[i].start, 1, slots[i].length, stdout);
    printf("\t%llu\n", (unsigned long long)slots[i].count);
  }
  return 0;
}
