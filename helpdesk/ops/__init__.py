"""Operations: the checks an operator runs against a deployment."""
