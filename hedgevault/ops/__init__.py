"""hedgevault.ops"""
