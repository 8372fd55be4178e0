/*
 * A small real program to record with scripts/record-trace.sh: it builds a
 * binary search tree of pseudo-random keys (one malloc per node), copies the keys
 * into an array, sorts it with the C library's qsort, then looks every key up in
 * the tree and prints a checksum. Heap, stack, libc code and pointer chasing in a
 * few hundred thousand accesses.
 */
#include <stdio.h>
#include <stdlib.h>

struct node {
    unsigned key;
    struct node *left, *right;
};

static struct node *insert(struct node *root, unsigned key) {
    struct node **at = &root;
    while (*at) {
        at = key < (*at)->key ? &(*at)->left : &(*at)->right;
    }
    *at = malloc(sizeof **at);
    (*at)->key = key;
    (*at)->left = (*at)->right = NULL;
    return root;
}

static int find(const struct node *n, unsigned key) {
    while (n && n->key != key) {
        n = key < n->key ? n->left : n->right;
    }
    return n != NULL;
}

static int compare(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    unsigned count = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 2000;
    unsigned *keys = malloc(count * sizeof *keys);
    struct node *root = NULL;
    unsigned x = 12345, found = 0, sum = 0;
    for (unsigned i = 0; i < count; i++) {
        x = x * 1103515245u + 12345u; /* the C standard's example rand() */
        keys[i] = x >> 8;
        root = insert(root, keys[i]);
    }
    qsort(keys, count, sizeof *keys, compare);
    for (unsigned i = 0; i < count; i++) {
        found += find(root, keys[i]);
        sum += keys[i] * (i + 1);
    }
    printf("%u keys, %u found, checksum %08x\n", count, found, sum);
    return found == count ? 0 : 1;
}
