"""Values as YAML: config.yaml read, written and overridden (yaml_config.py), YAML types of Python values
(yaml_values.py), a sweep file (sweep_config.py) and a sweep's best values written back (best_yaml.py).
"""
