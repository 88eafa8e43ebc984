"""utils/__init__.py"""
