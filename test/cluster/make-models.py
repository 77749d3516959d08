"""Write the local cluster's model registry: <registry>/<vendor>/<model>/config.json.

Usage: make-models.py REGISTRY MODEL_CONFIGS_JSON CATALOG_JSON
Models come from MODEL_CONFIGS_JSON (sourced config facts) and from the shipped catalog; a catalog
model without sourced facts gets a minimal stand-in config. Files are rewritten only when changed.
"""

import json
import os
import sys


def write_if_changed(path, text):
    try:
        with open(path, encoding='utf-8') as handle:
            if handle.read() == text:
                return
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as handle:
        handle.write(text)
    os.replace(tmp, path)


def main(registry, configs_path, catalog_path):
    with open(configs_path, encoding='utf-8') as handle:
        configs = json.load(handle)['models']
    models = dict(configs)
    try:
        with open(catalog_path, encoding='utf-8') as handle:
            catalog = json.load(handle)
    except FileNotFoundError:
        catalog = []
    for entry in catalog:
        name = entry.get('model', '')
        if name.count('/') == 1 and name not in models:
            models[name] = {'architectures': ['StandInForCausalLM'], 'model_type': 'standin'}
    for name, config in sorted(models.items()):
        text = json.dumps(config, indent=2, sort_keys=True) + '\n'
        write_if_changed(os.path.join(registry, name, 'config.json'), text)


if __name__ == '__main__':
    main(*sys.argv[1:4])
