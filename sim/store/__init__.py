"""Result files: atomic writes, manifests, reading a results directory back."""
